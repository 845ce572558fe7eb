package io.layerswarm.nat.autonat;

import io.layerswarm.libp2p.crypto.PeerId;
import io.layerswarm.libp2p.host.Host;
import io.layerswarm.libp2p.host.P2pStream;
import io.layerswarm.libp2p.multiformats.LengthPrefixed;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/** AutoNAT v1 client: asks a server to dial this host back at some addresses. */
public final class AutoNatClient {
    private final Host host;
    private final Executor blocking;

    /** Probes from {@code host}; the request/response exchange runs on {@code blocking}. */
    public AutoNatClient(Host host, Executor blocking) {
        this.host = host;
        this.blocking = blocking;
    }

    /** Asks {@code server} (connected or known to the host) to dial us back at {@code addrs}. */
    public CompletableFuture<DialResponse> probe(PeerId server, List<Multiaddr> addrs) {
        return host.newStream(server, List.of(AutoNatService.PROTOCOL)).thenApplyAsync(s -> exchange(s, addrs), blocking);
    }

    private DialResponse exchange(P2pStream s, List<Multiaddr> addrs) {
        try {
            AutoNatService.write(s.outputStream(), AutoNatCodec.encodeDial(host.peerId(), addrs));
            byte[] answer = LengthPrefixed.read(s.inputStream(), AutoNatCodec.MAX_MESSAGE_SIZE, AutoNatException::new);
            if (answer == null) {
                throw new AutoNatException("server closed the stream without answering");
            }
            return AutoNatCodec.decodeResponse(answer);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            s.close();
        }
    }
}
