package io.layerswarm.libp2p.kad;

import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers the requests arriving on one inbound kad stream (placed after {@link KadFrameCodec}). A
 * stream may carry several requests in turn, as js-libp2p allows; it ends when the peer half-closes.
 * A protocol violation closes the stream.
 */
public final class KadServerHandler extends SimpleChannelInboundHandler<KadMessage> {

    private static final Logger log = LoggerFactory.getLogger(KadServerHandler.class);

    private final KadDht dht;
    private final KadPeer remote;
    private final String remoteIp;

    /**
     * @param dht the DHT answering
     * @param remote the remote peer of the stream, with the addresses known for it
     */
    public KadServerHandler(KadDht dht, KadPeer remote) {
        this(dht, remote, null);
    }

    /**
     * @param dht the DHT answering
     * @param remote the remote peer of the stream, with the addresses known for it
     * @param remoteIp the IP address the stream's connection comes from (null: unknown or relayed)
     */
    public KadServerHandler(KadDht dht, KadPeer remote, String remoteIp) {
        this.dht = dht;
        this.remote = remote;
        this.remoteIp = remoteIp;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, KadMessage request) throws Exception {
        Optional<KadMessage> response = dht.handleRequest(remote, remoteIp, request);
        if (response.isPresent()) {
            ctx.writeAndFlush(response.get()).addListener(ChannelFutureListener.FIRE_EXCEPTION_ON_FAILURE);
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent) {
            // Peer sent its last request; close once our answers are flushed.
            ctx.writeAndFlush(io.netty.buffer.Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("event=kad_inbound_failed peer={} cause={}", remote, cause.toString());
        ctx.close();
    }
}
