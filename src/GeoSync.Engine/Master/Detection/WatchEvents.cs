namespace GeoSync.Engine.Master;

/// <summary>
/// Where <see cref="WatchedChanges"/> gets its events: inotify on a real tree (<see cref="InotifyEventSource"/>), or a
/// test's own source that can lose events, overflow and refuse watches on demand.
/// </summary>
internal interface IWatchEventSource : IDisposable
{
    /// <summary>Watches a directory given relative to the master root; its watch descriptor, or the negated errno.</summary>
    int AddWatch(string path);

    /// <summary>Stops watching (the directory moved away); the kernel answers with an <see cref="InotifyMask.Ignored"/> event.</summary>
    void RemoveWatch(int descriptor);

    /// <summary>Starts delivering events, a batch at a time, on a thread of the source's own.</summary>
    void Start(Action<IReadOnlyList<WatchEvent>> onEvents);

    /// <summary>
    /// Delivers, on the calling thread and before it returns, every event the kernel holds now (in order with the
    /// reader's), so a turn that starts next sees every change made before it.
    /// </summary>
    void Drain();
}

/// <summary>One inotify event: the watch it came from, what happened, and the entry's name within the watched directory (none for the directory itself).</summary>
internal readonly record struct WatchEvent(int Descriptor, uint Mask, string? Name)
{
    public bool Is(uint bits) => (Mask & bits) != 0;

    public bool IsDirectory => (Mask & InotifyMask.IsDirectory) != 0;
}

/// <summary>The inotify(7) mask bits GeoSync uses (linux/inotify.h).</summary>
internal static class InotifyMask
{
    public const uint Modify = 0x00000002;
    public const uint Attrib = 0x00000004;
    public const uint CloseWrite = 0x00000008;
    public const uint MovedFrom = 0x00000040;
    public const uint MovedTo = 0x00000080;
    public const uint Create = 0x00000100;
    public const uint Delete = 0x00000200;
    public const uint DeleteSelf = 0x00000400;
    public const uint MoveSelf = 0x00000800;
    public const uint Unmount = 0x00002000;
    public const uint QueueOverflow = 0x00004000;
    public const uint Ignored = 0x00008000;
    public const uint OnlyDirectory = 0x01000000;
    public const uint DontFollow = 0x02000000;
    public const uint IsDirectory = 0x40000000;

    /// <summary>What a watch on a master directory asks for: every change to its entries, and to itself.</summary>
    public const uint Watched = Modify | Attrib | CloseWrite | MovedFrom | MovedTo | Create | Delete | DeleteSelf | MoveSelf
        | OnlyDirectory | DontFollow;
}
