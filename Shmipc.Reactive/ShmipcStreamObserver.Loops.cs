using Shmipc.Channels;
using Shmipc.Reactive.Internal;

namespace Shmipc.Reactive;

/// <summary>The two loops of the writer: items out on Output, credits in from Input.</summary>
public sealed partial class ShmipcStreamObserver<T>
{
    private async Task WriteLoopAsync()
    {
        var token = _stop.Token;
        var ended = false;
        Exception? sourceError = null;
        try
        {
            await Envelope.WriteControlAsync(_stream, EnvelopeTag.Open, Envelope.Version, token).ConfigureAwait(false);
            var reader = _queue.Reader;
            while (!ended && await reader.WaitToReadAsync(token).ConfigureAwait(false))
            {
                while (!ended && reader.TryRead(out var entry))
                {
                    switch (entry.Kind)
                    {
                        case EntryKind.Item:
                            await _credits.WaitAsync(token).ConfigureAwait(false);
                            var encodeError = await WriteItemAsync(entry.Value!, token).ConfigureAwait(false);
                            if (encodeError is not null)
                            {
                                sourceError = encodeError;
                                var reason = $"item {_written + 1} could not be encoded by {_codec.GetType().Name}: {Envelope.Describe(encodeError)}";
                                await Envelope.WriteErrorAsync(_stream, reason, token).ConfigureAwait(false);
                                ended = true;
                                break;
                            }

                            _written++;
                            _slots.Release();
                            break;
                        case EntryKind.Completed:
                            await Envelope.WriteControlAsync(_stream, EnvelopeTag.Completed, 0, token).ConfigureAwait(false);
                            ended = true;
                            break;
                        default:
                            sourceError = entry.Error;
                            await Envelope.WriteErrorAsync(_stream, Envelope.Describe(entry.Error!), token).ConfigureAwait(false);
                            ended = true;
                            break;
                    }
                }
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // Stop() says why.
        }
        catch (Exception e)
        {
            Stop(StopKind.Failed, ThrowHelper.Unwrap(e));
        }

        await FinishAsync(ended, sourceError).ConfigureAwait(false);
    }

    /// <summary>Writes one item; returns the codec's exception instead of throwing it.</summary>
    private async ValueTask<Exception?> WriteItemAsync(T value, CancellationToken token)
    {
        var lease = _stream.Rent();
        try
        {
            Envelope.BeginItem(lease);
            try
            {
                _codec.Encode(value, lease.Writer);
            }
            catch (Exception e)
            {
                return e;
            }

            await _stream.Output.WriteAsync(lease, token).ConfigureAwait(false);
            return null;
        }
        finally
        {
            lease.Dispose();
        }
    }

    private async Task FinishAsync(bool ended, Exception? sourceError)
    {
        // Whatever happened, the writer is done: release blocked OnNext calls and ignore later ones.
        Stop(StopKind.Finished, null);
        var (kind, error) = StopReason();
        if (ended && kind is StopKind.PeerCancelled or StopKind.PeerClosed)
        {
            // The end was already written when the observer cancelled or closed: the sequence was delivered.
            kind = StopKind.Finished;
        }

        if (!ended && kind is StopKind.Disposed or StopKind.PeerCancelled)
        {
            // Say the last word so the observer's side can close the stream: after Cancel, Completed acknowledges;
            // after our own cancellation, the observer gets OnError.
            try
            {
                if (kind == StopKind.PeerCancelled)
                {
                    await Envelope.WriteControlAsync(_stream, EnvelopeTag.Completed, 0, CancellationToken.None).ConfigureAwait(false);
                }
                else
                {
                    await Envelope.WriteErrorAsync(_stream, "the writer was cancelled.", CancellationToken.None).ConfigureAwait(false);
                }

                ended = true;
            }
            catch (Exception e) when (e is ShmipcException or System.Threading.Channels.ChannelClosedException)
            {
                // The stream or session is gone: nobody is left to tell.
            }
        }

        if (kind == StopKind.Disposed)
        {
            _completion.TrySetCanceled(_dispose.Token);
        }

        if (ended)
        {
            // Wait for the observer's close, so that nothing it sent can arrive after we forget the stream.
            try
            {
                await _control.WaitAsync(_dispose.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                _completion.TrySetCanceled(_dispose.Token);
                await _control.ConfigureAwait(false);
            }
        }

        _stream.Dispose();
        switch (kind)
        {
            case StopKind.Finished or StopKind.None when sourceError is null:
                _completion.TrySetResult();
                break;
            case StopKind.Finished or StopKind.None:
                _completion.TrySetException(sourceError!);
                break;
            case StopKind.PeerCancelled:
                _completion.TrySetException(ThrowHelper.CreateUnsubscribed(_stream, _written, PendingCount));
                break;
            case StopKind.PeerClosed:
                _completion.TrySetException(ThrowHelper.CreateObserverGone(_stream, _written));
                break;
            case StopKind.Failed:
                _completion.TrySetException(error!);
                break;
            default:
                _completion.TrySetCanceled(_dispose.Token);
                break;
        }
    }

    private async Task ControlLoopAsync()
    {
        var input = _stream.Input;
        try
        {
            while (await input.WaitToReadAsync().ConfigureAwait(false))
            {
                await ThreadPoolHop.IfNeeded;
                while (input.TryRead(out var lease))
                {
                    Exception? violation = null;
                    var cancel = false;
                    uint credit = 0;
                    try
                    {
                        var data = lease.Data;
                        if (!Envelope.TryReadTag(data, out var tag))
                        {
                            violation = ThrowHelper.CreateProtocolViolation(_stream, "an empty message is not a Shmipc.Reactive envelope.");
                        }
                        else if (tag == EnvelopeTag.Credit)
                        {
                            if (!Envelope.TryReadCredit(data, out credit) || credit == 0 || credit > int.MaxValue - _credits.CurrentCount)
                            {
                                violation = ThrowHelper.CreateProtocolViolation(_stream, "malformed credit from the observer.");
                            }
                        }
                        else if (tag == EnvelopeTag.Cancel)
                        {
                            cancel = true;
                        }
                        else if (tag == EnvelopeTag.Name)
                        {
                            // The opener's name, left on the stream by an accept that did not ask for it.
                        }
                        else if (tag is EnvelopeTag.Item or EnvelopeTag.Open or EnvelopeTag.Completed or EnvelopeTag.Error)
                        {
                            violation = ThrowHelper.CreateProtocolViolation(_stream, "the other side is writing a sequence to this stream too; a stream carries one sequence in one direction (use one stream per direction).");
                        }
                        else
                        {
                            violation = ThrowHelper.CreateProtocolViolation(_stream, $"unknown envelope tag {(byte)tag}.");
                        }
                    }
                    finally
                    {
                        lease.Dispose();
                    }

                    if (violation is not null)
                    {
                        Stop(StopKind.Failed, violation);
                    }
                    else if (cancel)
                    {
                        Stop(StopKind.PeerCancelled, null);
                    }
                    else
                    {
                        _credits.Release((int)credit);
                    }
                }
            }

            // The observer closed the stream: expected after our last word, premature before it.
            Stop(StopKind.PeerClosed, null);
        }
        catch (Exception e)
        {
            Stop(StopKind.Failed, ThrowHelper.Unwrap(e));
        }
    }
}
