package io.layerswarm.libp2p.host;

import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.layerswarm.libp2p.multiformats.MultiaddrProtocol;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;

/** Conversions between TCP multiaddrs and socket addresses. */
final class TcpAddresses {
    private TcpAddresses() {
    }

    /** {@code /ip4|ip6|dns|dns4|dns6/.../tcp/N[/p2p/...]} to an unresolved-or-literal socket address. */
    static InetSocketAddress toSocketAddress(Multiaddr addr) {
        if (addr.valueOf(MultiaddrProtocol.TCP).isEmpty()) {
            throw new IllegalArgumentException("not a TCP multiaddr: " + addr);
        }
        return addr.socketAddress(MultiaddrProtocol.TCP);
    }

    /** A socket address as {@code /ip4|ip6/.../tcp/N}. */
    static Multiaddr toMultiaddr(SocketAddress socket) {
        InetSocketAddress s = (InetSocketAddress) socket;
        InetAddress a = s.getAddress();
        String family = a instanceof Inet4Address ? "ip4" : "ip6";
        return Multiaddr.parse("/" + family + "/" + a.getHostAddress().replaceAll("%.*$", "") + "/tcp/" + s.getPort());
    }
}
