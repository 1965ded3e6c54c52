using GeoSync.Engine.Transport;

namespace GeoSync.Engine.Tests.Transport;

/// <summary>The stderr lines below are what rsync 3.5.0 (Debian 12) printed in the situations named.</summary>
public class RsyncStderrClassifierTests
{
    private const string Partial =
        "rsync error: some files/attrs were not transferred (see previous errors) (code 23) at main.c(1394) [sender=3.5.0]\n";

    private static Dictionary<string, RsyncFileResult> Classify(string[] batch, int exitCode, string stderr, bool complete = true) =>
        RsyncStderrClassifier.Classify(batch, exitCode, stderr, complete).ToDictionary(r => r.RelativePath);

    [Fact]
    public void ExitZeroSyncsEverything()
    {
        var results = Classify(["a", "b/c"], 0, "");

        Assert.All(results.Values, r => Assert.Equal(RsyncFileStatus.Synced, r.Status));
        Assert.All(results.Values, r => Assert.Null(r.Reason));
    }

    [Fact]
    public void MissingSourceIsVanishedAndTheRestSynced()
    {
        const string line = "rsync: [sender] link_stat \"/tmp/rx/src/a/missing\" failed: No such file or directory (2)";
        var results = Classify(["a/b/f1", "a/missing", "f3"], 23, line + "\n" + Partial);

        Assert.Equal(RsyncFileStatus.Vanished, results["a/missing"].Status);
        Assert.Equal(line, results["a/missing"].Reason);
        Assert.Equal(RsyncFileStatus.Synced, results["a/b/f1"].Status);
        Assert.Equal(RsyncFileStatus.Synced, results["f3"].Status);
    }

    [Fact]
    public void FileVanishedDuringTheRunIsVanished()
    {
        var results = Classify(["victim", "a/f2"], 24,
            "file has vanished: \"/tmp/rx/src/victim\"\n"
            + "rsync warning: some files vanished before they could be transferred (code 24) at main.c(1394) [sender=3.5.0]\n");

        Assert.Equal(RsyncFileStatus.Vanished, results["victim"].Status);
        Assert.Equal(RsyncFileStatus.Synced, results["a/f2"].Status);
    }

    [Fact]
    public void DirectoryInTheWayAtTheDestinationFailsThatFile()
    {
        var results = Classify(["a/f2", "f3"], 23, "could not make way for new regular file: f3\n" + Partial);

        Assert.Equal(RsyncFileStatus.Failed, results["f3"].Status);
        Assert.Equal("could not make way for new regular file: f3", results["f3"].Reason);
        Assert.Equal(RsyncFileStatus.Synced, results["a/f2"].Status);
    }

    [Fact]
    public void ReceiverTemporaryFileNamesMapBackToTheFile()
    {
        var results = Classify(["a/b/f1", "a/f2", "c"], 23,
            "rsync: [receiver] mkstemp \"/tmp/rx/dst/a/b/.f1.SMXZgL\" failed: Operation not permitted (1)\n"
            + "rsync: [receiver] rename \"/tmp/rx/dst/a/.f2.ncpBDf\" -> \"a/f2\": Operation not permitted (1)\n" + Partial);

        Assert.Equal(RsyncFileStatus.Failed, results["a/b/f1"].Status);
        Assert.Equal(RsyncFileStatus.Failed, results["a/f2"].Status);
        Assert.Equal(RsyncFileStatus.Synced, results["c"].Status);
    }

    [Fact]
    public void EscapedAndRawSpellingsOfUnusualNamesAreRecognized()
    {
        string[] batch = ["new\nline", "we ird\"na\\#me", "été", "mi\nss\"ing", "plain"];
        var results = Classify(batch, 23,
            "rsync: [sender] link_stat \"/tmp/rx/src/mi\\#012ss\"ing\" failed: No such file or directory (2)\n"
            + "could not make way for new regular file: new\\#012line\n"
            + "could not make way for new regular file: we ird\"na\\#me\n"
            + "could not make way for new regular file: \\#303\\#251t\\#303\\#251\n" + Partial);

        Assert.Equal(RsyncFileStatus.Vanished, results["mi\nss\"ing"].Status);
        Assert.Equal(RsyncFileStatus.Failed, results["new\nline"].Status);
        Assert.Equal(RsyncFileStatus.Failed, results["we ird\"na\\#me"].Status);
        Assert.Equal(RsyncFileStatus.Failed, results["été"].Status);
        Assert.Equal(RsyncFileStatus.Synced, results["plain"].Status);
    }

    [Fact]
    public void RawUtf8AndOlderBackslashEscapingAreRecognized()
    {
        // rsync 3.2 escaped a literal "\#" as "\#134#"; a UTF-8 locale prints é raw.
        var results = Classify(["été", "x\\#y", "ok"], 23,
            "could not make way for new regular file: été\n"
            + "could not make way for new regular file: x\\#134#y\n" + Partial);

        Assert.Equal(RsyncFileStatus.Failed, results["été"].Status);
        Assert.Equal(RsyncFileStatus.Failed, results["x\\#y"].Status);
        Assert.Equal(RsyncFileStatus.Synced, results["ok"].Status);
    }

    [Fact]
    public void UndecodableBytesOfSurrogateEscapedNamesMatchTheirOctalSpelling()
    {
        var results = Classify(["caf\uDCE9", "cafe"], 23,
            "rsync: [sender] link_stat \"/tmp/rx/src/caf\\#351\" failed: No such file or directory (2)\n" + Partial);

        Assert.Equal(RsyncFileStatus.Vanished, results["caf\uDCE9"].Status);
        Assert.Equal(RsyncFileStatus.Synced, results["cafe"].Status);
    }

    [Fact]
    public void AmbiguousSuffixesFailEveryCandidate()
    {
        // "/src/a/f2" could be "a/f2" under /src, or "f2" reported with the full path: both count as failed.
        var results = Classify(["a/f2", "f2", "b/f3"], 23,
            "rsync: [sender] read errors mapping \"/tmp/rx/src/a/f2\": Input/output error (5)\n" + Partial);

        Assert.Equal(RsyncFileStatus.Failed, results["a/f2"].Status);
        Assert.Equal(RsyncFileStatus.Failed, results["f2"].Status);
        Assert.Equal(RsyncFileStatus.Synced, results["b/f3"].Status);
    }

    [Fact]
    public void FailureAnywhereMakesAFileFailedNotVanished()
    {
        var results = Classify(["x"], 23,
            "file has vanished: \"/s/x\"\nrsync: [receiver] mkstemp \"/d/.x.AbCdEf\" failed: No space left on device (28)\n" + Partial);

        Assert.Equal(RsyncFileStatus.Failed, results["x"].Status);
        Assert.Contains("No space left", results["x"].Reason, StringComparison.Ordinal);
        Assert.Contains("vanished", results["x"].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void SshsHostKeyNoteIsNotAFailure()
    {
        var results = Classify(["a", "b"], 23,
            "Warning: Permanently added '[127.0.0.1]:2222' (ED25519) to the list of known hosts.\n"
            + "could not make way for new regular file: b\n" + Partial);

        Assert.Equal(RsyncFileStatus.Synced, results["a"].Status);
        Assert.Equal(RsyncFileStatus.Failed, results["b"].Status);
    }

    [Fact]
    public void ALineNamingNoFileOfTheBatchFailsTheWholeBatch()
    {
        const string line = "rsync: [generator] failed to set times on \"/tmp/rx/dst/.\": Operation not permitted (1)";
        var results = Classify(["a/b", "c"], 23, "could not make way for new regular file: c\n" + line + "\n" + Partial);

        Assert.All(results.Values, r => Assert.Equal(RsyncFileStatus.Failed, r.Status));
        Assert.All(results.Values, r => Assert.Contains(line, r.Reason, StringComparison.Ordinal));
    }

    [Fact]
    public void PartialExitWithoutMessagesFailsTheWholeBatch()
    {
        var results = Classify(["a", "b"], 23, Partial);

        Assert.All(results.Values, r => Assert.Equal(RsyncFileStatus.Failed, r.Status));
        Assert.All(results.Values, r => Assert.Contains("without naming", r.Reason, StringComparison.Ordinal));
    }

    [Fact]
    public void ATruncatedTailFailsTheWholeBatch()
    {
        var results = Classify(["a", "b"], 23, "could not make way for new regular file: a\n" + Partial, complete: false);

        Assert.All(results.Values, r => Assert.Equal(RsyncFileStatus.Failed, r.Status));
        Assert.All(results.Values, r => Assert.Contains("more to stderr than was kept", r.Reason, StringComparison.Ordinal));
    }

    [Fact]
    public void APrefixOfANameInTheMiddleOfAPathDoesNotMatch()
    {
        // "tmp" occurs in "/tmp/rx/...", but not where a name ends, so only the unattributed line decides.
        var results = Classify(["tmp", "x"], 23,
            "rsync: [sender] link_stat \"/tmp/rx/src/x\" failed: No such file or directory (2)\n" + Partial);

        Assert.Equal(RsyncFileStatus.Synced, results["tmp"].Status);
        Assert.Equal(RsyncFileStatus.Vanished, results["x"].Status);
    }

    [Theory]
    [InlineData("a\nb", "a\\#012b")]
    [InlineData("é", "\\#303\\#251")]
    [InlineData("tab\t", "tab\\#011")]
    [InlineData("ok \"q\"", "ok \"q\"")]
    public void EscapeSpellsUnprintableBytesAsOctal(string name, string expected)
    {
        var escaped = RsyncStderrClassifier.Escape(System.Text.Encoding.UTF8.GetBytes(name));

        Assert.Equal(expected, System.Text.Encoding.Latin1.GetString(escaped));
        Assert.Equal(System.Text.Encoding.UTF8.GetBytes(name), RsyncStderrClassifier.Decode(escaped));
    }
}
