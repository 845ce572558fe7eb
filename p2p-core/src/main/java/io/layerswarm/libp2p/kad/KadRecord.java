package io.layerswarm.libp2p.kad;

import java.util.Objects;

/**
 * A value record carried by PUT_VALUE/GET_VALUE. LayerSwarm only decodes it (so that such
 * messages from other implementations parse); it does not store values.
 *
 * @param key the record key
 * @param value the record value
 * @param timeReceived RFC 3339 receive time, possibly empty
 */
public record KadRecord(byte[] key, byte[] value, String timeReceived) {
    /** Null-safe construction. */
    public KadRecord {
        key = key == null ? new byte[0] : key;
        value = value == null ? new byte[0] : value;
        timeReceived = Objects.requireNonNullElse(timeReceived, "");
    }
}
