using System.Collections.Concurrent;
using System.Management.Automation;
using GeoSync.Engine.Session;

namespace GeoSync.PowerShell;

/// <summary>
/// Engine messages from any thread, written by the pipeline thread only (docs/ARCHITECTURE.md, "The rooms"): the cmdlet waits for engine
/// tasks through <see cref="Await{T}"/>, which drains the queue (and runs a tick, e.g. progress) while it waits.
/// </summary>
internal sealed class PipelineQueue
{
    private static readonly TimeSpan DrainInterval = TimeSpan.FromMilliseconds(100);

    private readonly ConcurrentQueue<(SessionLogLevel Level, string Text)> _messages = new();

    /// <summary>Queues a message; callable from any thread.</summary>
    public void Post(SessionLogLevel level, string text) => _messages.Enqueue((level, text));

    /// <summary>Waits for <paramref name="task"/> on the pipeline thread, draining messages and calling <paramref name="tick"/> meanwhile.</summary>
    public T Await<T>(Cmdlet cmdlet, Task<T> task, Action? tick = null)
    {
        while (!((IAsyncResult)task).AsyncWaitHandle.WaitOne(DrainInterval))
        {
            Drain(cmdlet);
            tick?.Invoke();
        }
        Drain(cmdlet);
        return task.GetAwaiter().GetResult();
    }

    /// <summary>
    /// Writes the queued messages: Debug, Verbose, Warning for what degrades but goes on. Errors are Verbose here: the
    /// cmdlet reports them as error records (EntryNotSynced, SessionFaulty), which carry the same text.
    /// </summary>
    public void Drain(Cmdlet cmdlet)
    {
        while (_messages.TryDequeue(out var message))
        {
            switch (message.Level)
            {
                case SessionLogLevel.Debug:
                    cmdlet.WriteDebug(message.Text);
                    break;
                case SessionLogLevel.Verbose or SessionLogLevel.Error:
                    cmdlet.WriteVerbose(message.Text);
                    break;
                default:
                    cmdlet.WriteWarning(message.Text);
                    break;
            }
        }
    }
}
