package io.layerswarm.nat.ice;

import com.typesafe.config.ConfigFactory;
import java.beans.PropertyChangeEvent;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.logging.Level;
import org.ice4j.Transport;
import org.ice4j.TransportAddress;
import org.ice4j.ice.Agent;
import org.ice4j.ice.CandidatePair;
import org.ice4j.ice.CandidateType;
import org.ice4j.ice.Component;
import org.ice4j.ice.IceMediaStream;
import org.ice4j.ice.IceProcessingState;
import org.ice4j.ice.KeepAliveStrategy;
import org.ice4j.ice.LocalCandidate;
import org.ice4j.ice.RemoteCandidate;
import org.ice4j.ice.harvest.StunCandidateHarvester;
import org.ice4j.ice.harvest.TurnCandidateHarvester;
import org.ice4j.security.LongTermCredential;
import org.ice4j.socket.IceSocketWrapper;
import org.jitsi.config.JitsiConfig;
import org.jitsi.config.TypesafeConfigSource;

/**
 * One ICE session over ice4j, for one UDP component: gathers local candidates (host, server-reflexive
 * from the STUN servers, relayed from the TURN servers), takes the peer's credentials and candidates, runs the
 * connectivity checks (ice4j signs and checks them with the STUN short-term credentials of the session and paces them at
 * {@link #CHECK_INTERVAL_MS} ms) and reports the nominated pair. {@link #close()} releases the sockets,
 * so the nominated local port can be bound by QUIC; a pair through a TURN relay lives in ice4j's sockets
 * (the allocation, its permissions and refreshes), so then the agent stays open and carries the data
 * ({@link #dataSocket()}) until closed.
 */
final class IceAgent implements AutoCloseable {
    /** Pacing of the connectivity checks (RFC 8445 Ta): one check per 50 ms at most per session. */
    static final long CHECK_INTERVAL_MS = 50;

    static {
        Ice4jLogging.install();
        // ice4j reads its settings from a process-wide Typesafe config: ours turns off the cloud metadata
        // probe (an HTTP request to 169.254.169.254), IPv6 and link-local host candidates, and bounds the
        // harvest; everything else keeps ice4j's defaults.
        JitsiConfig.Companion.useDebugNewConfig(new TypesafeConfigSource("layerswarm-ice", ConfigFactory.parseString(
                "ice4j.harvest { mapping.aws.enabled = false, use-ipv6 = false, use-link-local-addresses = false,"
                        + " timeout = 5 seconds }\n"
                        + "ice4j.consent-freshness.interval = 5 seconds\n"
                        + "ice4j.software = \"\"")
                .withFallback(ConfigFactory.defaultReference()).resolve()));
    }

    /**
     * The pair ICE nominated: this side's socket address (the base) and the peer's, as seen from here; {@code
     * relayed} if either end is a TURN relayed candidate (both sides see the same pair, so they agree).
     */
    record Nominated(InetSocketAddress local, InetSocketAddress remote, boolean relayed) {
    }

    private final Agent agent;
    private final IceMediaStream stream;
    private final Component component;
    private final CompletableFuture<Nominated> nominated = new CompletableFuture<>();
    private volatile CandidatePair selected;

    /**
     * Gathers candidates (blocks for the STUN queries, at most ice4j's harvest timeout).
     *
     * @param controlling whether this side nominates (the dialler of the exchange)
     */
    IceAgent(boolean controlling, List<InetSocketAddress> stunServers, List<TurnServer> turnServers)
            throws IOException {
        agent = new Agent();
        agent.setLoggingLevel(Level.WARNING);
        agent.setControlling(controlling);
        agent.setTa(CHECK_INTERVAL_MS);
        agent.setUseDynamicPorts(true);
        for (InetSocketAddress s : stunServers) {
            agent.addCandidateHarvester(new StunCandidateHarvester(
                    new TransportAddress(s.getAddress(), s.getPort(), Transport.UDP)));
        }
        for (TurnServer t : turnServers) {
            // an Allocate also yields the server-reflexive candidate, so a TURN server needs no STUN entry
            agent.addCandidateHarvester(new TurnCandidateHarvester(new TransportAddress(t.address().getAddress(),
                    t.address().getPort(), Transport.UDP), new LongTermCredential(t.user(), t.password())));
        }
        stream = agent.createMediaStream("libp2p");
        try {
            component = agent.createComponent(stream, KeepAliveStrategy.SELECTED_ONLY, false);
        } catch (RuntimeException | IOException e) {
            agent.free();
            throw new IOException("ICE candidate gathering failed: " + e.getMessage(), e);
        }
        agent.addStateChangeListener(this::stateChanged);
    }

    /** This side's OFFER or ANSWER: credentials and the best {@value IceMessage#MAX_CANDIDATES} candidates. */
    IceMessage offer(IceMessage.Type type) throws IOException {
        List<IceCandidate> out = new ArrayList<>();
        List<LocalCandidate> local = new ArrayList<>(component.getLocalCandidates());
        // relayed candidates first (the fallback must not be crowded out by host addresses), then by priority
        local.sort(Comparator.comparing((LocalCandidate c) -> c.getType() != CandidateType.RELAYED_CANDIDATE)
                .thenComparing(Comparator.comparingLong(LocalCandidate::getPriority).reversed()));
        for (LocalCandidate c : local) {
            IceCandidate.Kind kind = switch (c.getType()) {
                case HOST_CANDIDATE -> IceCandidate.Kind.HOST;
                case SERVER_REFLEXIVE_CANDIDATE -> IceCandidate.Kind.SERVER_REFLEXIVE;
                case RELAYED_CANDIDATE -> IceCandidate.Kind.RELAYED;
                default -> null;
            };
            TransportAddress a = c.getTransportAddress();
            if (kind != null && a.getTransport() == Transport.UDP && out.size() < IceMessage.MAX_CANDIDATES) {
                out.add(new IceCandidate(kind, c.getFoundation(), new InetSocketAddress(a.getAddress(), a.getPort()),
                        c.getPriority()));
            }
        }
        if (out.isEmpty()) {
            throw new IOException("no UDP candidate gathered");
        }
        return IceMessage.offer(type, agent.getLocalUfrag(), agent.getLocalPassword(), out);
    }

    /** Takes the peer's OFFER/ANSWER and starts the connectivity checks; completes with the nominated pair. */
    CompletableFuture<Nominated> connect(IceMessage remote) {
        stream.setRemoteUfrag(remote.ufrag());
        stream.setRemotePassword(remote.pwd());
        for (IceCandidate c : remote.candidates()) {
            CandidateType type = switch (c.kind()) {
                case HOST -> CandidateType.HOST_CANDIDATE;
                case SERVER_REFLEXIVE -> CandidateType.SERVER_REFLEXIVE_CANDIDATE;
                case RELAYED -> CandidateType.RELAYED_CANDIDATE;
            };
            component.addRemoteCandidate(new RemoteCandidate(new TransportAddress(c.address().getAddress(),
                    c.address().getPort(), Transport.UDP), component, type, c.foundation(), c.priority(), null));
        }
        agent.startConnectivityEstablishment();
        return nominated;
    }

    private void stateChanged(PropertyChangeEvent e) {
        if (!Agent.PROPERTY_ICE_PROCESSING_STATE.equals(e.getPropertyName())) {
            return;
        }
        IceProcessingState s = (IceProcessingState) e.getNewValue();
        if (s == IceProcessingState.COMPLETED) {
            CandidatePair p = component.getSelectedPair();
            selected = p;
            if (p == null) {
                nominated.completeExceptionally(new IOException("ICE completed without a selected pair"));
                return;
            }
            TransportAddress base = p.getLocalCandidate().getBase().getTransportAddress();
            TransportAddress remote = p.getRemoteCandidate().getTransportAddress();
            boolean relayed = p.getLocalCandidate().getType() == CandidateType.RELAYED_CANDIDATE
                    || p.getRemoteCandidate().getType() == CandidateType.RELAYED_CANDIDATE;
            nominated.complete(new Nominated(new InetSocketAddress(base.getAddress(), base.getPort()),
                    new InetSocketAddress(remote.getAddress(), remote.getPort()), relayed));
        } else if (s == IceProcessingState.FAILED) {
            nominated.completeExceptionally(new IOException("ICE connectivity checks failed: no candidate pair works"));
        }
    }

    /**
     * The socket of the nominated pair (after completion): sends to the peer's end of the pair, through the
     * TURN relay if the pair is relayed, and receives what the peer sends on it (STUN excluded).
     */
    IceSocketWrapper dataSocket() throws IOException {
        CandidatePair p = selected;
        IceSocketWrapper w = p == null ? null : p.getIceSocketWrapper();
        if (w == null) {
            throw new IOException("no socket for the nominated pair " + p);
        }
        return w;
    }

    /** Stops the checks and closes ice4j's sockets (the nominated port is free to bind afterwards). */
    @Override
    public void close() {
        nominated.completeExceptionally(new IOException("ICE session closed"));
        agent.free();
    }
}
