namespace GeoSync.Engine.Master;

/// <summary>
/// A plain directory as master (<c>file:///path</c>): no marker keeps xtimes, so the crawl compares every entry's type,
/// size, mtime, mode and owner with the slave's, like modern gsyncd's hybrid crawl.
/// </summary>
public sealed class DirectoryMasterTree : LocalMasterTree
{
    public DirectoryMasterTree(string rootPath) : base(rootPath) { }
}
