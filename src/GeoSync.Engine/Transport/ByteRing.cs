namespace GeoSync.Engine.Transport;

/// <summary>Keeps the newest bytes written to it, never more than its capacity; grows on demand up to that bound.</summary>
internal sealed class ByteRing
{
    private const int InitialSize = 4096;
    private byte[] buffer = [];
    private int start;

    public ByteRing(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
    }

    public int Capacity { get; }

    public int Count { get; private set; }

    /// <summary>The bytes actually allocated; never above <see cref="Capacity"/>.</summary>
    public int AllocatedBytes => buffer.Length;

    public void Write(ReadOnlySpan<byte> data)
    {
        if (data.Length >= Capacity)
        {
            Resize(Capacity);
            data[^Capacity..].CopyTo(buffer);
            start = 0;
            Count = Capacity;
            return;
        }

        if (Count + data.Length > buffer.Length && buffer.Length < Capacity)
        {
            Resize(Math.Min(Capacity, Math.Max(Math.Max(InitialSize, buffer.Length * 2), Count + data.Length)));
        }

        var size = buffer.Length;
        var end = (start + Count) % size;
        var first = Math.Min(data.Length, size - end);
        data[..first].CopyTo(buffer.AsSpan(end));
        data[first..].CopyTo(buffer);

        var total = Count + data.Length;
        if (total > size)
        {
            start = (start + total - size) % size;
            Count = size;
        }
        else
        {
            Count = total;
        }
    }

    public byte[] ToArray()
    {
        var result = new byte[Count];
        var first = Math.Min(Count, buffer.Length - start);
        buffer.AsSpan(start, first).CopyTo(result);
        buffer.AsSpan(0, Count - first).CopyTo(result.AsSpan(first));
        return result;
    }

    private void Resize(int size)
    {
        if (size == buffer.Length)
        {
            return;
        }

        var contents = ToArray();
        buffer = new byte[size];
        contents.CopyTo(buffer, 0);
        start = 0;
    }
}
