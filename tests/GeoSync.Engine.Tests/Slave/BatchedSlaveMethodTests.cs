using GeoSync.Engine.Rpc;
using GeoSync.Engine.Xattrs;
using Mono.Unix.Native;

namespace GeoSync.Engine.Tests.Slave;

/// <summary>
/// GeoSync's own slave extensions for a GlusterFS master's crawl: <c>entry_types</c> (names with types from the listing)
/// and <c>set_xtimes</c> (many <c>set_xtime</c>s in one call, each path's failure its own).
/// </summary>
public sealed class BatchedSlaveMethodTests : SlaveFixture
{
    private const string Uuid = "11111111-2222-3333-4444-555555555555";

    [Fact]
    public async Task EntryTypesTellsEachEntrysFormatBitsWithoutDotEntries()
    {
        Dir.CreateFile("f");
        Dir.CreateDirectory("d/inner");
        Dir.CreateSymlink("l", "d");
        Assert.Equal(0, Syscall.mkfifo(Dir.Combine("p"), FilePermissions.S_IRUSR | FilePermissions.S_IWUSR));

        var entries = Assert.IsType<List<object?>>(await Call("entry_types", "."))
            .Select(e => Assert.IsType<PyTuple>(e))
            .ToDictionary(t => (string)t[0]!, t => (long)t[1]!);

        Assert.Equal(new Dictionary<string, long>
        {
            ["f"] = 0x8000, // S_IFREG
            ["d"] = 0x4000, // S_IFDIR
            ["l"] = 0xA000, // S_IFLNK: never followed
            ["p"] = 0x1000, // S_IFIFO
        }, entries);
        Assert.Equal(new object?[] { new PyTuple("inner", 0x4000L) }, Assert.IsType<List<object?>>(await Call("entry_types", "d")));
    }

    [Fact]
    public async Task EntryTypesRefusesWhatEntriesRefuses()
    {
        Dir.CreateFile("f");
        Dir.CreateDirectory("d");
        Dir.CreateSymlink("l", "d");
        await FailsWithOsError(E.ENOTDIR, "entry_types", "f");
        await FailsWithOsError(E.ENOTDIR, "entry_types", "l");
        await FailsWithOsError(E.ENOENT, "entry_types", "missing");
        await IsUnsafe("entry_types", "l/x");
        await IsUnsafe("entry_types", "../x");
    }

    [Fact]
    public void DirectoryEntryTypesMapToTheirFormatBits()
    {
        Assert.Equal(0, Slave_FormatOf(0)); // DT_UNKNOWN: the entry is lstat'ed instead
        Assert.Equal(0x8000, Slave_FormatOf(8));
        Assert.Equal(0x4000, Slave_FormatOf(4));
        Assert.Equal(0xA000, Slave_FormatOf(10));
        Assert.Equal(0xC000, Slave_FormatOf(12));
        Assert.Equal(0x2000, Slave_FormatOf(2));
        Assert.Equal(0x6000, Slave_FormatOf(6));
        Assert.Equal(0, Slave_FormatOf(14)); // DT_WHT and anything else: lstat'ed

        static long Slave_FormatOf(byte type) => GeoSync.Engine.Slave.EntryTypesMethod.FormatOf(type);
    }

    [Fact]
    public async Task SetXtimesWritesEveryPathAndAnswersEachOnesFailure()
    {
        Dir.CreateDirectory("a/b");
        var file = Dir.CreateFile("a/b/f");
        var dir = Dir.Combine("a/b");
        Dir.CreateSymlink("link", "a");
        Dir.CreateFile("plain");

        var answer = Assert.IsType<List<object?>>(await Call("set_xtimes", Uuid, new List<object?>
        {
            new PyTuple("a/b/f", new PyTuple(1700000000L, 7L)),
            new PyTuple("a/b", new PyTuple(1700000001L, 8L)),
            new PyTuple("a/missing", new PyTuple(1L, 1L)),
            new PyTuple("link/b/f", new PyTuple(1L, 1L)),
            new PyTuple("plain/x", new PyTuple(1L, 1L)),
            new PyTuple("link", new PyTuple(1700000002L, 9L)),
        }));

        Assert.Equal(6, answer.Count);
        Assert.Null(answer[0]);
        Assert.Null(answer[1]);
        Assert.Equal(new PyTuple((long)E.ENOENT, "No such file or directory"), answer[2]);
        Assert.Equal(new PyTuple(0L, "unsafe path"), answer[3]); // a symlink ancestor: what set_xtime refuses as ValueError
        Assert.Equal((long)E.ENOTDIR, Assert.IsType<PyTuple>(answer[4])[0]);
        Assert.Equal(new Xtime(1700000000, 7), Xtime.FromBytes(Xattrs.Get(file, XtimeName(Uuid))!));
        Assert.Equal(new Xtime(1700000001, 8), Xtime.FromBytes(Xattrs.Get(dir, XtimeName(Uuid))!));
        // A symlink as the final component is marked itself, as set_xtime does, never its target.
        Assert.Null(Xattrs.Get(Dir.Combine("a"), XtimeName(Uuid)));
        Assert.Equal(new PyTuple(1700000002L, 9L), await Call("xtime", "link", Uuid));
    }

    [Fact]
    public async Task SetXtimesRefusesMalformedArgumentsAsAWhole()
    {
        Dir.CreateFile("f");
        Assert.Equal("TypeError", (await Fails("set_xtimes", Uuid, 5L)).TypeName);
        Assert.Equal("TypeError", (await Fails("set_xtimes", Uuid, new List<object?> { new PyTuple("f") })).TypeName);
        Assert.Equal(("struct", "error"), await ModuleAndType(Fails("set_xtimes", Uuid, new List<object?> { new PyTuple("f", new PyTuple(-1L, 0L)) })));
        Assert.Equal("ValueError", (await Fails("set_xtimes", "not a uuid!", new List<object?>())).TypeName);
        Assert.Equal("TypeError", (await Fails("set_xtimes", Uuid)).TypeName);
        Assert.Equal((long)E.ENODATA, await Call("xtime", "f", Uuid));
        Assert.Empty(Assert.IsType<List<object?>>(await Call("set_xtimes", Uuid, new List<object?>())));

        static async Task<(string, string)> ModuleAndType(Task<PyException> failure)
        {
            var ex = await failure;
            return (ex.Module, ex.TypeName);
        }
    }
}
