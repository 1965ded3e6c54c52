namespace GeoSync.Engine.Transport;

/// <summary>Keeps the newest bytes written to it, never more than its capacity; grows on demand up to that bound.</summary>
internal sealed class ByteRing
{
    private const int InitialSize = 4096;
    private byte[] _buffer = [];
    private int _start;

    public ByteRing(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
    }

    public int Capacity { get; }

    public int Count { get; private set; }

    /// <summary>The bytes actually allocated; never above <see cref="Capacity"/>.</summary>
    public int AllocatedBytes => _buffer.Length;

    public void Write(ReadOnlySpan<byte> data)
    {
        if (data.Length >= Capacity)
        {
            Resize(Capacity);
            data[^Capacity..].CopyTo(_buffer);
            _start = 0;
            Count = Capacity;
            return;
        }

        if (Count + data.Length > _buffer.Length && _buffer.Length < Capacity)
        {
            Resize(Math.Min(Capacity, Math.Max(Math.Max(InitialSize, _buffer.Length * 2), Count + data.Length)));
        }

        var size = _buffer.Length;
        var end = (_start + Count) % size;
        var first = Math.Min(data.Length, size - end);
        data[..first].CopyTo(_buffer.AsSpan(end));
        data[first..].CopyTo(_buffer);

        var total = Count + data.Length;
        if (total > size)
        {
            _start = (_start + total - size) % size;
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
        var first = Math.Min(Count, _buffer.Length - _start);
        _buffer.AsSpan(_start, first).CopyTo(result);
        _buffer.AsSpan(0, Count - first).CopyTo(result.AsSpan(first));
        return result;
    }

    private void Resize(int size)
    {
        if (size == _buffer.Length)
        {
            return;
        }

        var contents = ToArray();
        _buffer = new byte[size];
        contents.CopyTo(_buffer, 0);
        _start = 0;
    }
}
