package io.layerswarm.libp2p.noise;

import io.netty.handler.codec.LengthFieldBasedFrameDecoder;

/**
 * Splits the stream into Noise messages: a 2-byte big-endian length then that many bytes. The
 * length field itself bounds a frame at 65535 bytes, so memory per connection is bounded.
 */
public final class NoiseFrameDecoder extends LengthFieldBasedFrameDecoder {

    /** Creates the decoder. */
    public NoiseFrameDecoder() {
        super(2 + HandshakeState.MAX_MESSAGE_LEN, 0, 2, 0, 2);
    }
}
