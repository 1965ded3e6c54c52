namespace GeoSync.Engine.Urls;

/// <summary>The three resource kinds a gsyncd URL can name.</summary>
public enum UrlScheme
{
    /// <summary>A plain directory, <c>file:///dir</c>.</summary>
    File,

    /// <summary>A GlusterFS volume, <c>gluster://host:volume</c>.</summary>
    Gluster,

    /// <summary>A file or gluster resource on another host, reached over ssh.</summary>
    Ssh,
}
