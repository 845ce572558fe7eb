package io.layerswarm.nat.autonat;

import io.layerswarm.libp2p.crypto.PeerId;
import io.layerswarm.libp2p.host.Host;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.layerswarm.libp2p.multiformats.MultiaddrProtocol;
import io.layerswarm.nat.relay.RelayClient;
import io.layerswarm.nat.stun.StunClient;
import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a host knows about its own reachability, and the addresses it therefore advertises.
 *
 * <p>Candidates are the listen addresses, the addresses peers observed (identify) and, per STUN server,
 * the server-reflexive IP with each TCP listen port (a port-preserving NAT maps TCP like UDP). AutoNAT
 * servers then try to dial the candidates back; only confirmed ones are advertised. A host no server
 * could reach is {@link Status#PRIVATE} and advertises its relay circuits instead (if it has a
 * {@link RelayClient} with reservations).
 */
public final class Reachability {
    /** Reachability verdict. */
    public enum Status {
        /** An AutoNAT server dialled us back. */
        PUBLIC,
        /** AutoNAT servers tried and could not dial us. */
        PRIVATE,
        /** Not checked, or no server gave a usable answer. */
        UNKNOWN
    }

    private static final Logger LOG = LoggerFactory.getLogger(Reachability.class);

    private final Host host;
    private final AutoNatClient autonat;
    private final RelayClient relays;
    private final StunClient stun;
    private final List<InetSocketAddress> stunServers;
    private volatile Status status = Status.UNKNOWN;
    private volatile List<Multiaddr> confirmed = List.of();

    /**
     * @param relays the host's relay client (null: no relay addresses when private)
     * @param stunServers STUN servers to learn the public IP from (may be empty)
     * @param blocking runs AutoNAT exchanges and STUN queries
     */
    public Reachability(Host host, RelayClient relays, List<InetSocketAddress> stunServers, Executor blocking) {
        this.host = host;
        this.relays = relays;
        this.stunServers = List.copyOf(stunServers);
        this.stun = new StunClient();
        this.autonat = new AutoNatClient(host, blocking);
    }

    /** Makes the host advertise {@link #advertisedAddrs()} (identify's listen addresses). */
    public Reachability install() {
        host.setAdvertisedAddrs(this::advertisedAddrs);
        return this;
    }

    /** The current verdict. */
    public Status status() {
        return status;
    }

    /** Addresses an AutoNAT server reached us at. */
    public List<Multiaddr> confirmedAddrs() {
        return confirmed;
    }

    /**
     * What to tell peers: confirmed addresses, plus relay circuits unless we are public; while
     * nothing is known yet, the listen addresses (so a fresh node on a flat network still works).
     */
    public List<Multiaddr> advertisedAddrs() {
        List<Multiaddr> out = new ArrayList<>(confirmed);
        if (status != Status.PUBLIC && relays != null) {
            out.addAll(relays.relayedAddrs());
        }
        if (status == Status.UNKNOWN && out.isEmpty()) {
            return host.listenAddrs();
        }
        return out;
    }

    /** Addresses worth asking an AutoNAT server about. */
    public List<Multiaddr> candidates() {
        Set<Multiaddr> out = new LinkedHashSet<>(host.listenAddrs());
        out.addAll(host.observedAddrs());
        for (InetSocketAddress server : stunServers) {
            try (DatagramSocket s = new DatagramSocket(0, InetAddress.getByName("0.0.0.0"))) {
                InetAddress publicIp = stun.mappedAddress(s, server).getAddress();
                for (Multiaddr l : host.listenAddrs()) {
                    l.valueOf(MultiaddrProtocol.TCP).ifPresent(port -> out.add(Multiaddr.parse(
                            "/ip4/" + publicIp.getHostAddress() + "/tcp/" + port)));
                }
            } catch (IOException e) {
                LOG.info("event=stun_failed server={} reason=\"{}\"", server, e.getMessage());
            }
        }
        return List.copyOf(out);
    }

    /**
     * Asks each of {@code servers} (AutoNAT servers the host can reach) to dial our candidates back and
     * updates the verdict: public if any succeeded, private if all that answered failed to dial.
     */
    public CompletableFuture<Status> check(List<PeerId> servers) {
        List<Multiaddr> cands = candidates();
        List<CompletableFuture<DialResponse>> asks = new ArrayList<>();
        for (PeerId server : servers) {
            asks.add(autonat.probe(server, cands).exceptionally(e -> new DialResponse(DialResponse.Status.E_INTERNAL_ERROR,
                    e.toString(), null)));
        }
        return CompletableFuture.allOf(asks.toArray(CompletableFuture[]::new)).thenApply(v -> {
            Set<Multiaddr> ok = new LinkedHashSet<>();
            int dialErrors = 0;
            for (CompletableFuture<DialResponse> f : asks) {
                DialResponse r = f.join();
                if (r.status() == DialResponse.Status.OK && r.addr() != null) {
                    ok.add(r.addr());
                } else if (r.status() == DialResponse.Status.E_DIAL_ERROR) {
                    dialErrors++;
                }
            }
            confirmed = List.copyOf(ok);
            status = !ok.isEmpty() ? Status.PUBLIC : dialErrors > 0 ? Status.PRIVATE : Status.UNKNOWN;
            LOG.info("event=reachability status={} confirmed={} candidates={} servers={}", status, confirmed, cands.size(),
                    servers.size());
            return status;
        });
    }
}
