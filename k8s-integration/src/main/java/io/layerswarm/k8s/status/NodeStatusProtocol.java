package io.layerswarm.k8s.status;

import io.layerswarm.libp2p.crypto.PeerId;
import io.layerswarm.libp2p.host.Host;
import io.layerswarm.libp2p.host.P2pStream;
import io.layerswarm.libp2p.multiformats.LengthPrefixed;
import io.layerswarm.libp2p.multiformats.Varint;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ProtocolException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;

/**
 * {@value #PROTOCOL}: a node pushes its signed status record to a peer that keeps a view (the
 * scheduler's light peer). One stream carries one record as a varint-length-prefixed frame; the
 * receiver answers one byte, the {@link SwarmClusterView.Result} ordinal, and closes. The record's
 * signature, not the connection, is what the receiver trusts, so records may also be relayed.
 */
public final class NodeStatusProtocol {
    /** Protocol id. */
    public static final String PROTOCOL = "/layerswarm/node-status/1.0.0";

    private NodeStatusProtocol() {
    }

    /** Serves the protocol on {@code host}, feeding {@code view}. */
    public static void attach(Host host, SwarmClusterView view) {
        host.setBlockingHandler(PROTOCOL, s -> receive(s, view));
    }

    private static void receive(P2pStream s, SwarmClusterView view) throws IOException {
        byte[] record = LengthPrefixed.read(s.inputStream(), StatusRecordCodec.MAX_RECORD_BYTES, ProtocolException::new);
        if (record == null) {
            throw new ProtocolException("stream closed before a status record");
        }
        SwarmClusterView.Result r = view.ingest(record);
        OutputStream out = s.outputStream();
        out.write(r.ordinal());
        out.flush();
    }

    /**
     * Pushes one encoded record to {@code peer}.
     *
     * @param io runs the blocking exchange
     * @return the receiver's verdict
     */
    public static CompletableFuture<SwarmClusterView.Result> publish(Host host, PeerId peer, byte[] record, Executor io) {
        return host.newStream(peer, List.of(PROTOCOL)).thenApplyAsync(s -> {
            try {
                OutputStream out = s.outputStream();
                out.write(Varint.encode(record.length));
                out.write(record);
                out.flush();
                s.closeWrite();
                InputStream in = s.inputStream();
                int b = in.read();
                SwarmClusterView.Result[] all = SwarmClusterView.Result.values();
                if (b < 0 || b >= all.length) {
                    throw new ProtocolException("status receiver answered " + b);
                }
                return all[b];
            } catch (IOException e) {
                s.reset();
                throw new CompletionException(e);
            } finally {
                s.close();
            }
        }, io);
    }
}
