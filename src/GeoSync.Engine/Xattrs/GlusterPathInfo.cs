namespace GeoSync.Engine.Xattrs;

/// <summary>
/// Reads the layout of a GlusterFS volume from the virtual xattr <c>trusted.glusterfs.pathinfo</c> of its mount root,
/// e.g. <c>((&lt;DISTRIBUTE:dvol-dht&gt; &lt;POSIX(/b1):host:/b1/&gt; &lt;POSIX(/b2):host:/b2/&gt;) (dvol-dht-layout ...))</c>
/// for two bricks, a bare <c>&lt;POSIX(/b):host:/b/&gt;</c> for one, and <c>(&lt;REPLICATE:...&gt; ...)</c> groups for replicas.
/// </summary>
public static class GlusterPathInfo
{
    /// <summary>The virtual xattr a GlusterFS client answers with the bricks behind a path.</summary>
    public const string XattrName = "trusted.glusterfs.pathinfo";

    private const string DistributeHeader = "DISTRIBUTE:";
    private const string PosixPrefix = "<POSIX(";

    /// <summary>
    /// The bricks named in a pathinfo as <c>host:/brick/path</c>, sorted and without repeats: every client of a volume
    /// sees the same set, however it named the server it mounted from. Empty when the text names none.
    /// </summary>
    public static IReadOnlyList<string> Bricks(string pathInfo)
    {
        ArgumentNullException.ThrowIfNull(pathInfo);
        var bricks = new SortedSet<string>(StringComparer.Ordinal);
        var position = 0;
        while ((position = pathInfo.IndexOf(PosixPrefix, position, StringComparison.Ordinal)) >= 0)
        {
            // <POSIX(/brick/path):host:/brick/path/dir>: the brick path in parentheses, then the host.
            var end = pathInfo.IndexOf('>', position);
            if (end < 0) break;
            var item = pathInfo[(position + PosixPrefix.Length)..end];
            position = end;
            var close = item.IndexOf("):", StringComparison.Ordinal);
            if (close < 0) continue;
            var brick = item[..close];
            var rest = item[(close + 2)..];
            var colon = rest.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0) continue;
            bricks.Add($"{rest[..colon]}:{brick}");
        }
        return [.. bricks];
    }

    /// <summary>
    /// The number of DHT subvolumes (the most any distribute group has; 1 when there is none, as for a single brick or
    /// a replica set), or null when the text is not a pathinfo this parser understands.
    /// </summary>
    public static int? DistributeCount(string pathInfo)
    {
        ArgumentNullException.ThrowIfNull(pathInfo);
        var position = 0;
        var most = 1;
        var items = 0;
        while (true)
        {
            SkipBlanks(pathInfo, ref position);
            if (position == pathInfo.Length) break;
            if (!TryReadItem(pathInfo, ref position, ref most, out _)) return null;
            items++;
        }
        return items == 0 ? null : most;
    }

    /// <summary>
    /// One item: <c>&lt;text&gt;</c> (a brick or a group header), <c>( item ... )</c>, or a bare word (layout ranges).
    /// A group headed by <c>&lt;DISTRIBUTE:...&gt;</c> counts its other items as subvolumes.
    /// </summary>
    private static bool TryReadItem(string text, ref int position, ref int most, out string? header)
    {
        header = null;
        switch (text[position])
        {
            case '<':
                {
                    // Brick paths may hold parentheses, so an angle item runs to its closing bracket.
                    var end = text.IndexOf('>', position + 1);
                    if (end < 0) return false;
                    header = text[(position + 1)..end];
                    position = end + 1;
                    return true;
                }
            case '(':
                {
                    position++;
                    string? first = null;
                    var count = 0;
                    while (true)
                    {
                        SkipBlanks(text, ref position);
                        if (position == text.Length) return false;
                        if (text[position] == ')')
                        {
                            position++;
                            break;
                        }
                        if (!TryReadItem(text, ref position, ref most, out var itemHeader)) return false;
                        if (count++ == 0) first = itemHeader;
                    }
                    if (first is not null && first.StartsWith(DistributeHeader, StringComparison.Ordinal))
                    {
                        most = Math.Max(most, count - 1);
                    }
                    return true;
                }
            case ')' or '>':
                return false;
            default:
                while (position < text.Length && !char.IsWhiteSpace(text[position]) && text[position] is not ('(' or ')' or '<' or '>'))
                {
                    position++;
                }
                return true;
        }
    }

    private static void SkipBlanks(string text, ref int position)
    {
        while (position < text.Length && (char.IsWhiteSpace(text[position]) || text[position] == '\0')) position++;
    }
}
