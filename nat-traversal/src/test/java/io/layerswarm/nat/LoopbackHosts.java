package io.layerswarm.nat;

import io.layerswarm.libp2p.crypto.Ed25519PrivateKey;
import io.layerswarm.libp2p.host.Host;
import io.layerswarm.libp2p.multiformats.Multiaddr;

/** Hosts for in-process tests. */
public final class LoopbackHosts {
    private LoopbackHosts() {
    }

    /**
     * A started host with a fresh identity, listening on a free loopback port, or (listen false) one
     * that can only dial out, as behind a NAT.
     */
    public static Host start(boolean listen) throws Exception {
        Host.Builder b = Host.builder(Ed25519PrivateKey.generate()).ioThreads(1);
        if (listen) {
            b.listen(Multiaddr.parse("/ip4/127.0.0.1/tcp/0"));
        }
        return b.build().start();
    }
}
