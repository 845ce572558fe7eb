package io.layerswarm.libp2p.upgrade;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;

/**
 * Base for connection-upgrade steps that speak first (pnet nonce, multistream header, Noise
 * message 1): {@link #onActive} runs exactly once, as soon as the handler is in the pipeline of an
 * active channel — whether it was added before or after the connection came up.
 */
public abstract class UpgradeStepHandler extends ChannelDuplexHandler {

    private boolean activated;

    /** Called once on the event loop when the channel is active and this handler is installed. */
    protected abstract void onActive(ChannelHandlerContext ctx);

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        if (ctx.channel().isActive()) {
            activate(ctx);
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        activate(ctx);
        ctx.fireChannelActive();
    }

    private void activate(ChannelHandlerContext ctx) {
        if (!activated) {
            activated = true;
            onActive(ctx);
        }
    }
}
