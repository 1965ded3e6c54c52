namespace GeoSync.Engine.Master;

/// <summary>Counts a turn's jobs still running, so an aborted turn can wait for them before it returns.</summary>
internal sealed class RunningJobs
{
    private readonly object _lock = new();
    private int _running;
    private TaskCompletionSource? _idle;

    public void Started()
    {
        lock (_lock) _running++;
    }

    public void Finished()
    {
        lock (_lock)
        {
            if (--_running == 0) _idle?.TrySetResult();
        }
    }

    public Task WhenIdle()
    {
        lock (_lock)
        {
            if (_running == 0) return Task.CompletedTask;
            _idle ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _idle.Task;
        }
    }
}
