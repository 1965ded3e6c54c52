using GeoSync.Engine.Rpc;
using GeoSync.Engine.Verify;

namespace GeoSync.Engine.Tests.Verify;

/// <summary>The compact text of verify_listing and checksum_listing: round trips through the pickle codec, and refusals.</summary>
public sealed class VerifyListingTests
{
    private static readonly ReplicaEntry[] Entries =
    [
        new("plain", ReplicaEntryType.Regular, 0x1A4, 1000, 1000, 4096, 1_765_000_000_123_456_789, null, 0),
        new("with xattrs", ReplicaEntryType.Regular, 0x180, 0, 0, 0, -1_000_000_001, null, 0)
        {
            Xattrs = new SortedDictionary<string, string>(StringComparer.Ordinal) { ["user.a"] = "00FF", ["user.b=c"] = "" },
        },
        new("no xattrs", ReplicaEntryType.Regular, 0x1A4, 1, 2, 3, 4, null, 0) { Xattrs = new SortedDictionary<string, string>() },
        new("dir", ReplicaEntryType.Directory, 0x1ED, 0, 0, 0, 5, null, 0),
        new("link", ReplicaEntryType.Symlink, 0x1FF, 0, 0, 9, 6, "../target with spaces/\u00e9", 0),
        new("fifo", ReplicaEntryType.Fifo, 0x180, 0, 0, 0, 7, null, 0),
        new("sock", ReplicaEntryType.Socket, 0x180, 0, 0, 0, 8, null, 0),
        new("null", ReplicaEntryType.CharacterDevice, 0x1B6, 0, 0, 0, 9, null, 0x103),
        new("disk", ReplicaEntryType.BlockDevice, 0x1B0, 0, 6, 0, 10, null, long.MaxValue),
        // An undecodable byte as Python's surrogateescape (and WireText) carries it, and a name beyond the BMP.
        new("bad\uDCFFname \U0001F600", ReplicaEntryType.Regular, 0x124, uint.MaxValue, uint.MaxValue, long.MaxValue, long.MinValue, null, 0),
    ];

    [Theory]
    [InlineData(PeerDialect.Python3)]
    [InlineData(PeerDialect.Python2)]
    public void AListingSurvivesThePickleCodecEntryForEntry(PeerDialect dialect)
    {
        var decoded = VerifyListing.Decode(ThroughPickle(VerifyListing.Encode(Entries), dialect), Malformed);
        Assert.Equal(Entries.Length, decoded.Count);
        for (var i = 0; i < Entries.Length; i++)
        {
            // A record compares its xattrs' dictionaries by reference; their contents are compared on their own.
            Assert.Equal(Entries[i] with { Xattrs = null }, decoded[i] with { Xattrs = null });
            Assert.Equal(Entries[i].Xattrs?.ToList(), decoded[i].Xattrs?.ToList());
        }
        Assert.Null(decoded[0].Xattrs);
        Assert.Empty(decoded[2].Xattrs!);
    }

    [Fact]
    public void AnEmptyDirectoryIsAnEmptyListing()
    {
        Assert.Equal("", VerifyListing.Encode([]));
        Assert.Empty(VerifyListing.Decode("", Malformed));
    }

    [Fact]
    public void NamesAndDigestsSurviveThePickleCodecInTheirOrder()
    {
        string[] names = ["a", "b\uDC80", "c d"];
        var sent = VerifyListing.DecodeNames(ThroughPickle(VerifyListing.EncodeNames(names), PeerDialect.Python3), Malformed);
        Assert.Equal(names, sent);

        EntryDigest[] digests = [new("a", "0123456789ABCDEF0123456789ABCDEF", 0), new("b\uDC80", null, 40), new("c d", null, 2)];
        var answered = VerifyListing.DecodeDigests(ThroughPickle(VerifyListing.EncodeDigests(digests), PeerDialect.Python3), names, Malformed);
        Assert.Equal(digests, answered);
    }

    [Theory]
    [InlineData("f\u0000")] // a name alone
    [InlineData("f\u000033188\u00000\u00000\u00000\u00000\u00000\u0000\u0000-")] // the last field unterminated
    [InlineData("f\u000033188\u0000zero\u00000\u00000\u00000\u00000\u0000\u0000-\u0000")]
    [InlineData("f\u000033188\u00000\u00000\u00000\u00000\u00000\u0000\u00002\u0000user.a\u000000\u0000")] // one xattr of two
    [InlineData("f\u000033188\u00000\u00000\u00000\u00000\u00000\u0000\u0000-1\u0000")]
    [InlineData("f\u000033188\u00000\u00000\u00000\u00000\u00000\u0000\u00002\u0000user.a\u000000\u0000user.a\u000001\u0000")]
    [InlineData("f\u000099999999999999999999\u00000\u00000\u00000\u00000\u00000\u0000\u0000-\u0000")]
    public void AMalformedListingIsRefused(string listing)
    {
        Assert.Throws<FormatException>(() => VerifyListing.Decode(listing, Malformed));
    }

    [Theory]
    [InlineData("")] // too few
    [InlineData("AB\u0000CD\u0000")] // too many
    [InlineData("XYZ\u0000")]
    [InlineData("\u0000")]
    [InlineData("-0\u0000")]
    [InlineData("-two\u0000")]
    [InlineData("AB")]
    public void DigestsThatDoNotAnswerTheNamesAreRefused(string digests)
    {
        Assert.Throws<FormatException>(() => VerifyListing.DecodeDigests(digests, ["a"], Malformed));
    }

    private static FormatException Malformed(string what) => new(what);

    private static string ThroughPickle(string text, PeerDialect dialect) =>
        PickleReader.Decode(PickleWriter.Encode(text, dialect)) switch
        {
            string s => s,
            byte[] bytes => GeoSync.Engine.Slave.WireText.ToText(bytes),
            var other => throw new InvalidOperationException($"decoded a {other?.GetType().Name}"),
        };
}
