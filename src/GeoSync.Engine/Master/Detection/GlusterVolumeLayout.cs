using System.Globalization;
using System.Xml.Linq;

namespace GeoSync.Engine.Master;

/// <summary>One brick of a volume as glusterd lists it: <c>host:path</c>, and whether it is a replica set's arbiter.</summary>
public sealed record GlusterBrick(string Host, string Path, bool IsArbiter)
{
    /// <inheritdoc/>
    public override string ToString() => $"{Host}:{Path}";
}

/// <summary>What glusterd says of a brick's process: whether it is online, and its pid.</summary>
public sealed record GlusterBrickStatus(string Host, string Path, bool Online, int? Pid);

/// <summary>
/// A volume's bricks and how they form subvolumes (replica sets, disperse sets, or single bricks), from
/// <c>gluster volume info VOLUME --xml</c> (docs/multi-brick.md). Read from glusterd rather than from
/// <c>trusted.glusterfs.pathinfo</c>, which a dispersed volume answers with ENOMEM.
/// </summary>
public sealed class GlusterVolumeLayout
{
    private GlusterVolumeLayout(string name, Guid volumeId, string type, int setSize, IReadOnlyList<GlusterBrick> bricks)
    {
        Name = name;
        VolumeId = volumeId;
        Type = type;
        SetSize = setSize;
        Bricks = bricks;
    }

    /// <summary>The volume's name.</summary>
    public string Name { get; }

    /// <summary>The volume's uuid.</summary>
    public Guid VolumeId { get; }

    /// <summary>glusterd's name of the volume type, e.g. <c>Distributed-Replicate</c>, <c>Disperse</c>.</summary>
    public string Type { get; }

    /// <summary>Bricks per subvolume: the replica count, the disperse count, or 1 for a plain distribute volume.</summary>
    public int SetSize { get; }

    /// <summary>Every brick, in glusterd's order (consecutive bricks form a set).</summary>
    public IReadOnlyList<GlusterBrick> Bricks { get; }

    /// <summary>The subvolumes DHT distributes over: consecutive runs of <see cref="SetSize"/> bricks.</summary>
    public IReadOnlyList<IReadOnlyList<GlusterBrick>> Subvolumes =>
        [.. Bricks.Chunk(SetSize).Select(set => (IReadOnlyList<GlusterBrick>)set)];

    /// <summary>Parses <c>gluster volume info VOLUME --xml</c>; throws <see cref="FormatException"/> when it is not one volume's info.</summary>
    public static GlusterVolumeLayout Parse(string xml, string volume)
    {
        ArgumentNullException.ThrowIfNull(xml);
        ArgumentException.ThrowIfNullOrEmpty(volume);
        var root = Load(xml);
        var node = root.Descendants("volume").FirstOrDefault(v => (string?)v.Element("name") == volume)
            ?? throw new FormatException($"the volume info does not describe volume '{volume}'");
        if (!Guid.TryParse((string?)node.Element("id"), out var id)) throw new FormatException($"volume '{volume}' has no valid id");
        var bricks = new List<GlusterBrick>();
        foreach (var brick in node.Element("bricks")?.Elements("brick") ?? [])
        {
            var name = (string?)brick.Element("name") ?? brick.Nodes().OfType<XText>().FirstOrDefault()?.Value;
            var colon = name?.IndexOf(':', StringComparison.Ordinal) ?? -1;
            if (name is null || colon <= 0 || colon == name.Length - 1) throw new FormatException($"brick '{name}' of volume '{volume}' is not host:path");
            bricks.Add(new GlusterBrick(name[..colon], name[(colon + 1)..], (string?)brick.Element("isArbiter") == "1"));
        }
        if (bricks.Count == 0) throw new FormatException($"volume '{volume}' lists no bricks");
        var disperse = Count(node, "disperseCount");
        var replica = Count(node, "replicaCount");
        var setSize = disperse > 0 ? disperse : replica > 0 ? replica : 1;
        if (bricks.Count % setSize != 0)
        {
            throw new FormatException($"volume '{volume}' has {bricks.Count} bricks, not a whole number of sets of {setSize}");
        }
        return new GlusterVolumeLayout(volume, id, (string?)node.Element("typeStr") ?? "unknown", setSize, bricks);
    }

    /// <summary>Parses <c>gluster volume status VOLUME --xml</c>: one entry per brick (daemons such as self-heal are left out by the caller's match).</summary>
    public static IReadOnlyList<GlusterBrickStatus> ParseStatus(string xml)
    {
        ArgumentNullException.ThrowIfNull(xml);
        var root = Load(xml);
        return [.. root.Descendants("node").Select(node => new GlusterBrickStatus(
            (string?)node.Element("hostname") ?? "",
            (string?)node.Element("path") ?? "",
            (string?)node.Element("status") == "1",
            int.TryParse((string?)node.Element("pid"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var pid) && pid > 0 ? pid : null))];
    }

    private static XElement Load(string xml)
    {
        XElement root;
        try
        {
            root = XElement.Parse(xml);
        }
        catch (System.Xml.XmlException ex)
        {
            throw new FormatException($"not the gluster CLI's XML: {ex.Message}", ex);
        }
        if ((string?)root.Element("opRet") is { } ret && ret != "0")
        {
            throw new FormatException($"glusterd refused: {(string?)root.Element("opErrstr")} (opRet {ret})");
        }
        return root;
    }

    private static int Count(XElement volume, string name) =>
        int.TryParse((string?)volume.Element(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : 0;
}
