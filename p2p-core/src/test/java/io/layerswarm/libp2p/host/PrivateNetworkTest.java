package io.layerswarm.libp2p.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.layerswarm.libp2p.crypto.Ed25519PrivateKey;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.layerswarm.libp2p.pnet.SwarmKey;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class PrivateNetworkTest {

    static Host host(SwarmKey key) throws Exception {
        Host.Builder b = Host.builder(Ed25519PrivateKey.generate()).listen(Multiaddr.parse("/ip4/127.0.0.1/tcp/0"))
                .handshakeTimeout(Duration.ofSeconds(3)).ioThreads(1);
        if (key != null) {
            b.swarmKey(key);
        }
        Host h = b.build().start();
        h.setBlockingHandler(HostTest.ECHO, s -> s.inputStream().transferTo(s.outputStream()));
        return h;
    }

    @Test
    void sameKeyConnectsOthersAreRefused() throws Exception {
        SwarmKey key = SwarmKey.generate();
        try (Host a = host(key); Host b = host(key); Host other = host(SwarmKey.generate()); Host open = host(null)) {
            P2pStream s = a.newStream(HostTest.fullAddr(b), List.of(HostTest.ECHO)).get(10, TimeUnit.SECONDS);
            s.outputStream().write("private".getBytes(StandardCharsets.UTF_8));
            s.outputStream().close();
            assertEquals("private", new String(s.inputStream().readAllBytes(), StandardCharsets.UTF_8));
            assertThrows(ExecutionException.class, () -> other.connect(HostTest.fullAddr(b)).get(10, TimeUnit.SECONDS));
            assertThrows(ExecutionException.class, () -> open.connect(HostTest.fullAddr(b)).get(10, TimeUnit.SECONDS));
            assertThrows(ExecutionException.class, () -> a.connect(HostTest.fullAddr(open)).get(10, TimeUnit.SECONDS));
        }
    }
}
