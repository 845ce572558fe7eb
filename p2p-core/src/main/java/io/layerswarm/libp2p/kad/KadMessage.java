package io.layerswarm.libp2p.kad;

import java.util.List;
import java.util.Objects;

/**
 * One Kademlia request or response ({@code Message} of the libp2p kad-dht spec). Byte arrays are
 * owned by the message and must not be modified after construction.
 *
 * @param type the message type
 * @param key the key the message is about (peer id bytes for FIND_NODE, multihash for providers);
 *            empty if absent
 * @param record the record of PUT_VALUE/GET_VALUE, or {@code null}
 * @param closerPeers peers closer to the key (responses)
 * @param providerPeers providers of the key (ADD_PROVIDER requests, GET_PROVIDERS responses)
 */
public record KadMessage(Type type, byte[] key, KadRecord record, List<KadPeer> closerPeers,
                         List<KadPeer> providerPeers) {

    /** Message types of the spec; the ordinal is the wire value. */
    public enum Type {
        /** Store a value record (not served by LayerSwarm). */
        PUT_VALUE,
        /** Fetch a value record (not served by LayerSwarm). */
        GET_VALUE,
        /** Announce that the sender provides the key. No response. */
        ADD_PROVIDER,
        /** Ask for providers of the key and closer peers. */
        GET_PROVIDERS,
        /** Ask for peers closer to the key. */
        FIND_NODE,
        /** Liveness check; answered with PING. */
        PING
    }

    /** Validates and freezes the lists. */
    public KadMessage {
        Objects.requireNonNull(type, "type");
        key = key == null ? new byte[0] : key;
        closerPeers = List.copyOf(closerPeers == null ? List.of() : closerPeers);
        providerPeers = List.copyOf(providerPeers == null ? List.of() : providerPeers);
    }

    /** A request with only a type and key. */
    public static KadMessage request(Type type, byte[] key) {
        return new KadMessage(type, key, null, List.of(), List.of());
    }

    /** A FIND_NODE or GET_PROVIDERS response. */
    public static KadMessage response(Type type, byte[] key, List<KadPeer> closer, List<KadPeer> providers) {
        return new KadMessage(type, key, null, closer, providers);
    }

    @Override
    public String toString() {
        return "KadMessage[type=" + type + " keyLen=" + key.length + " closer=" + closerPeers.size()
                + " providers=" + providerPeers.size() + "]";
    }
}
