using System.Globalization;
using GeoSync.Engine.Master;
using GeoSync.Engine.Rpc;

namespace GeoSync.Engine.Session;

/// <summary>
/// What an unclaimed slave holds, counted over its whole tree so that a refusal can say how much a first sync would
/// delete (docs/sessions.md, "What a session refuses"). The count is bounded: it stops after <see cref="MaxEntries"/>
/// entries or <see cref="MaxTime"/>, and then says "at least". GlusterFS's own root names are not content, nor is an
/// empty <c>lost+found</c> at the root (mkfs puts one at the root of every ext file system).
/// </summary>
internal sealed class SlaveContentCount
{
    /// <summary>Entries counted before the count stops and says "at least".</summary>
    public const int MaxEntries = 100_000;

    /// <summary>How long the count may take before it stops and says "at least".</summary>
    public static readonly TimeSpan MaxTime = TimeSpan.FromSeconds(3);

    /// <summary>The root name mkfs.ext* creates; empty, it is the file system's, not anyone's data.</summary>
    public const string LostAndFound = "lost+found";

    private SlaveContentCount(IReadOnlyList<string> doomed, IReadOnlyList<string> shared)
    {
        Doomed = doomed;
        Shared = shared;
    }

    /// <summary>Root entries the master lacks: a first sync deletes them and everything below them.</summary>
    public IReadOnlyList<string> Doomed { get; }

    /// <summary>Root entries the master has too.</summary>
    public IReadOnlyList<string> Shared { get; }

    /// <summary>Entries in the whole tree, root entries included (a lower bound when <see cref="Complete"/> is false).</summary>
    public long Total { get; private set; }

    /// <summary>Entries in the subtrees of <see cref="Doomed"/>, themselves included (a lower bound when not complete).</summary>
    public long DoomedTotal { get; private set; }

    /// <summary>False when the count stopped at a limit or could not list a directory: <see cref="Total"/> is a lower bound.</summary>
    public bool Complete { get; private set; } = true;

    /// <summary>False when <see cref="DoomedTotal"/> is a lower bound.</summary>
    public bool DoomedComplete { get; private set; } = true;

    public bool IsEmpty => Doomed.Count == 0 && Shared.Count == 0;

    /// <summary>"3 entries", "1 entry", "at least 100000 entries"; with <paramref name="ofThem"/>, "2 of them".</summary>
    public static string Describe(long count, bool complete, string? ofThem = null)
    {
        var number = (complete ? "" : "at least ") + count.ToString(CultureInfo.InvariantCulture);
        return ofThem is not null ? $"{number} {ofThem}" : $"{number} {(count == 1 && complete ? "entry" : "entries")}";
    }

    /// <summary>Counts the slave's tree: the root entries the master lacks first, so their total is exact when the count stops.</summary>
    public static async Task<SlaveContentCount> CountAsync(ISlaveChannel slave, IReadOnlyCollection<string> masterEntries,
        TimeProvider clock, CancellationToken cancellationToken, int maxEntries = MaxEntries, TimeSpan? maxTime = null)
    {
        ArgumentNullException.ThrowIfNull(slave);
        ArgumentNullException.ThrowIfNull(clock);
        var walker = new Walker(slave, clock, maxEntries, maxTime ?? MaxTime, cancellationToken);
        var root = new List<(string Name, bool? IsDirectory)>();
        // The root must be listable: a slave that cannot show what it holds is not taken for empty. The usual slave is
        // empty: one `entries` call, as gsyncd's own check makes; types are asked for only when there is something.
        var names = await slave.EntriesAsync(".", cancellationToken).ConfigureAwait(false);
        var listing = names.Any(n => !GlusterInternalNames.IsInternal(n))
            ? await walker.ListAsync(".", throwOnError: true).ConfigureAwait(false) ?? []
            : [];
        foreach (var entry in listing)
        {
            if (GlusterInternalNames.IsInternal(entry.Name)) continue;
            if (entry.Name == LostAndFound && entry.IsDirectory != false && await walker.IsEmptyOrUnreadableAsync(LostAndFound).ConfigureAwait(false)) continue;
            root.Add(entry);
        }
        root.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));

        var onMaster = masterEntries as IReadOnlySet<string> ?? masterEntries.ToHashSet(StringComparer.Ordinal);
        var doomed = root.Where(e => !onMaster.Contains(e.Name)).ToList();
        var shared = root.Where(e => onMaster.Contains(e.Name)).ToList();
        var count = new SlaveContentCount(doomed.ConvertAll(e => e.Name), shared.ConvertAll(e => e.Name));
        // Every root entry counts, even when the walk below them stops early.
        walker.Counted = root.Count;
        foreach (var entry in doomed) await walker.CountBelowAsync(entry.Name, entry.IsDirectory).ConfigureAwait(false);
        count.DoomedTotal = walker.Counted - shared.Count;
        count.DoomedComplete = !walker.Stopped && !walker.MissedSome;
        foreach (var entry in shared) await walker.CountBelowAsync(entry.Name, entry.IsDirectory).ConfigureAwait(false);
        count.Total = walker.Counted;
        count.Complete = !walker.Stopped && !walker.MissedSome;
        return count;
    }

    /// <summary>Lists directories over the slave channel: lstat_entries where the slave has it, else entries per name.</summary>
    private sealed class Walker(ISlaveChannel slave, TimeProvider clock, int maxEntries, TimeSpan maxTime, CancellationToken cancellationToken)
    {
        private readonly long _started = clock.GetTimestamp();
        private bool _noLstatEntries;

        public long Counted { get; set; }

        /// <summary>A limit was reached.</summary>
        public bool Stopped { get; private set; }

        /// <summary>A directory could not be listed (gone, no permission): what it holds is not counted.</summary>
        public bool MissedSome { get; private set; }

        /// <summary>Counts what lies below <paramref name="path"/> (not the entry itself), until a limit.</summary>
        public async Task CountBelowAsync(string path, bool? isDirectory)
        {
            if (isDirectory == false) return;
            var pending = new Stack<string>();
            pending.Push(path);
            while (pending.Count > 0 && !Stopped)
            {
                if (Counted >= maxEntries || clock.GetElapsedTime(_started) >= maxTime)
                {
                    Stopped = true;
                    return;
                }
                var directory = pending.Pop();
                var entries = await ListAsync(directory).ConfigureAwait(false);
                if (entries is null) continue;
                Counted += entries.Count;
                foreach (var entry in entries)
                {
                    if (entry.IsDirectory != false) pending.Push($"{directory}/{entry.Name}");
                }
            }
        }

        public async Task<bool> IsEmptyOrUnreadableAsync(string path)
        {
            try
            {
                return (await slave.EntriesAsync(path, cancellationToken).ConfigureAwait(false)).Count == 0;
            }
            catch (RemoteOsException)
            {
                // Not readable by the slave (lost+found is root's, mode 0700): a sync could not delete it either.
                return true;
            }
        }

        /// <summary>
        /// The entries of <paramref name="path"/> with whether each is a directory (null: unknown, from a slave without
        /// lstat_entries); null when <paramref name="path"/> is not a directory or cannot be listed.
        /// </summary>
        public async Task<List<(string Name, bool? IsDirectory)>?> ListAsync(string path, bool throwOnError = false)
        {
            try
            {
                if (!_noLstatEntries)
                {
                    try
                    {
                        return (await slave.LstatEntriesAsync(path, cancellationToken).ConfigureAwait(false))
                            .Select(e => (e.Name, (bool?)(e.Stat.Type == EntryType.Directory))).ToList();
                    }
                    catch (RemoteAttributeException)
                    {
                        // A 3.3 or 10.x slave: names only, and a non-directory shows itself by ENOTDIR when listed.
                        _noLstatEntries = true;
                    }
                }
                return (await slave.EntriesAsync(path, cancellationToken).ConfigureAwait(false)).Select(n => (n, (bool?)null)).ToList();
            }
            catch (RemoteOsException ex) when (ex.Errno == LinuxErrno.ENOTDIR && !throwOnError)
            {
                return null;
            }
            catch (RemoteOsException) when (!throwOnError)
            {
                MissedSome = true;
                return null;
            }
        }
    }
}
