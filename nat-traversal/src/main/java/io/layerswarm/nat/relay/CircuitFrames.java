package io.layerswarm.nat.relay;

import io.layerswarm.libp2p.multiformats.Varint;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;

/** Writes length-prefixed relay messages to stream channels. */
final class CircuitFrames {
    private CircuitFrames() {
    }

    static ChannelFuture write(Channel ch, byte[] body) {
        ByteBuf out = ch.alloc().buffer(body.length + Varint.MAX_BYTES);
        Varint.write(body.length, out);
        out.writeBytes(body);
        return ch.writeAndFlush(out);
    }

    static ChannelFuture write(Channel ch, HopMessage m) {
        return write(ch, CircuitCodec.encode(m));
    }

    static ChannelFuture write(Channel ch, StopMessage m) {
        return write(ch, CircuitCodec.encode(m));
    }
}
