using System.Buffers.Binary;

namespace GeoSync.Engine.Rpc;

// Written by hand instead of using Razorvine.Pickle because its unpickler turns any GLOBAL a peer names into a
// generic object and offers no way to bound depth, lengths or memory, all of which docs/protocol.md, "Opcodes and safe decoding" requires.

/// <summary>One decoded message and the number of bytes it took on the wire.</summary>
public readonly record struct PickleMessage(object? Value, int Length);

/// <summary>
/// Reads RePCe messages (pickle protocol 2, each self-delimited by STOP, no length prefix) one after another from the
/// same buffered stream, decoding each into the plain values of PyValues.cs. Only the opcodes of docs/protocol.md ("Opcodes and safe decoding") and
/// the GLOBALs it lists are accepted; anything else raises <see cref="GeoSyncProtocolException"/>, after which the stream
/// cannot be resynchronised and the reader refuses further use. Not thread-safe: one reader loop per stream.
/// </summary>
public sealed class PickleReader
{
    private const int BufferSize = 64 * 1024;
    private const int InitialFrameCapacity = 4 * 1024;

    private readonly Stream _stream;
    private readonly PickleLimits _limits;
    private readonly byte[] _buffer = new byte[BufferSize];
    private int _start;
    private int _end;
    private byte[] _frame = new byte[InitialFrameCapacity];
    private int _frameLength;
    private bool _failed;

    public PickleReader(Stream stream, PickleLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        _stream = stream;
        _limits = limits ?? PickleLimits.Default;
    }

    /// <summary>Decodes exactly one complete message (trailing bytes are an error).</summary>
    /// <exception cref="GeoSyncProtocolException">The bytes are not one acceptable RePCe pickle.</exception>
    public static object? Decode(ReadOnlySpan<byte> frame, PickleLimits? limits = null) =>
        PickleDecoder.Decode(frame.ToArray(), frame.Length, limits ?? PickleLimits.Default);

    /// <summary>
    /// Reads the next message; null when the stream ends cleanly between messages. The stream ending inside a message,
    /// or anything outside the protocol, raises <see cref="GeoSyncProtocolException"/>.
    /// </summary>
    public async ValueTask<PickleMessage?> ReadAsync(CancellationToken cancellationToken = default)
    {
        if (_failed)
        {
            throw new InvalidOperationException("this pickle reader already failed; a pickle stream cannot be resynchronised, open a new connection");
        }
        try
        {
            if (!await ReadFrameAsync(cancellationToken).ConfigureAwait(false)) return null;
            return new PickleMessage(PickleDecoder.Decode(_frame, _frameLength, _limits), _frameLength);
        }
        catch
        {
            _failed = true;
            throw;
        }
    }

    // Finds the end of one frame by walking opcode operands only; the decoder then checks meaning on complete bytes.
    private async ValueTask<bool> ReadFrameAsync(CancellationToken cancellationToken)
    {
        _frameLength = 0;
        while (true)
        {
            if (!await EnsureAsync(1, cancellationToken).ConfigureAwait(false))
            {
                if (_frameLength == 0) return false;
                throw Truncated();
            }
            var opcode = _buffer[_start];
            var layout = PickleOpcodes.Layout(opcode)
                ?? throw PickleDecoder.Error($"{PickleOpcodes.Describe(opcode)} at offset {_frameLength}");
            CheckBudget(1, "the message");
            Append(1);
            switch (layout)
            {
                case OperandLayout.None:
                    break;
                case OperandLayout.OneByte:
                    await CopyFixedAsync(1, cancellationToken).ConfigureAwait(false);
                    if (opcode == PickleOpcodes.Proto && _frame[_frameLength - 1] > 2)
                    {
                        throw PickleDecoder.Error($"unsupported pickle protocol {_frame[_frameLength - 1]}; RePCe peers use protocol 2");
                    }
                    break;
                case OperandLayout.TwoBytes:
                    await CopyFixedAsync(2, cancellationToken).ConfigureAwait(false);
                    break;
                case OperandLayout.FourBytes:
                    await CopyFixedAsync(4, cancellationToken).ConfigureAwait(false);
                    break;
                case OperandLayout.EightBytes:
                    await CopyFixedAsync(8, cancellationToken).ConfigureAwait(false);
                    break;
                case OperandLayout.ByteLengthPrefixed:
                    await CopyFixedAsync(1, cancellationToken).ConfigureAwait(false);
                    await CopyPayloadAsync(opcode, _frame[_frameLength - 1], cancellationToken).ConfigureAwait(false);
                    break;
                case OperandLayout.IntLengthPrefixed:
                    await CopyFixedAsync(4, cancellationToken).ConfigureAwait(false);
                    var length = BinaryPrimitives.ReadUInt32LittleEndian(_frame.AsSpan(_frameLength - 4));
                    await CopyPayloadAsync(opcode, length, cancellationToken).ConfigureAwait(false);
                    break;
                case OperandLayout.Line:
                    await CopyLineAsync(cancellationToken).ConfigureAwait(false);
                    break;
                case OperandLayout.TwoLines:
                    await CopyLineAsync(cancellationToken).ConfigureAwait(false);
                    await CopyLineAsync(cancellationToken).ConfigureAwait(false);
                    break;
            }
            if (opcode == PickleOpcodes.Stop) return true;
        }
    }

    private async ValueTask CopyFixedAsync(int count, CancellationToken cancellationToken)
    {
        CheckBudget(count, "the message");
        if (!await EnsureAsync(count, cancellationToken).ConfigureAwait(false)) throw Truncated();
        Append(count);
    }

    private async ValueTask CopyPayloadAsync(byte opcode, long length, CancellationToken cancellationToken)
    {
        if (_frameLength + length > _limits.MaxFrameBytes)
        {
            throw PickleDecoder.LengthError(opcode, length, _frameLength, _limits.MaxFrameBytes);
        }
        while (length > 0)
        {
            if (!await EnsureAsync(1, cancellationToken).ConfigureAwait(false)) throw Truncated();
            var chunk = (int)Math.Min(length, _end - _start);
            Append(chunk);
            length -= chunk;
        }
    }

    private async ValueTask CopyLineAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            if (!await EnsureAsync(1, cancellationToken).ConfigureAwait(false)) throw Truncated();
            var newline = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
            var chunk = newline >= 0 ? newline - _start + 1 : _end - _start;
            CheckBudget(chunk, "a text operand");
            Append(chunk);
            if (newline >= 0) return;
        }
    }

    private void CheckBudget(long more, string what)
    {
        if (_frameLength + more > _limits.MaxFrameBytes)
        {
            throw PickleDecoder.Error(
                $"{what} exceeds the {_limits.MaxFrameBytes}-byte message limit at offset {_frameLength}");
        }
    }

    // Moves buffered bytes into the frame; the frame grows with what actually arrived, never with a declared length.
    private void Append(int count)
    {
        if (_frameLength + count > _frame.Length)
        {
            var capacity = Math.Max(_frameLength + count, Math.Min(_frame.Length * 2, _limits.MaxFrameBytes));
            Array.Resize(ref _frame, capacity);
        }
        _buffer.AsSpan(_start, count).CopyTo(_frame.AsSpan(_frameLength));
        _frameLength += count;
        _start += count;
    }

    // Makes at least count (≤ buffer size) bytes available; false when the stream ends first.
    private async ValueTask<bool> EnsureAsync(int count, CancellationToken cancellationToken)
    {
        while (_end - _start < count)
        {
            if (_start > 0)
            {
                _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
                _end -= _start;
                _start = 0;
            }
            var read = await ReadStreamAsync(_buffer.AsMemory(_end), cancellationToken).ConfigureAwait(false);
            if (read == 0) return false;
            _end += read;
        }
        return true;
    }

    // Pipes and process streams often ignore the token once a read is pending; WaitAsync makes cancellation prompt
    // anyway. The abandoned read may still land in the buffer later, which is harmless because the reader is failed.
    private async ValueTask<int> ReadStreamAsync(Memory<byte> memory, CancellationToken cancellationToken)
    {
        var pending = _stream.ReadAsync(memory, cancellationToken);
        if (pending.IsCompleted) return pending.GetAwaiter().GetResult();
        var read = pending.AsTask();
        try
        {
            return await read.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The owner usually disposes the stream next, failing the abandoned read; observe that failure.
            _ = read.ContinueWith(static t => t.Exception, CancellationToken.None,
                TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            throw;
        }
    }

    private GeoSyncProtocolException Truncated() =>
        PickleDecoder.Error($"truncated frame: the stream ended inside a message after {_frameLength} bytes");
}
