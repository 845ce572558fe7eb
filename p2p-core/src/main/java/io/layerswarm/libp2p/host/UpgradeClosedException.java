package io.layerswarm.libp2p.host;

import java.io.IOException;

/**
 * A connection (or relayed circuit) closed while its security and muxer upgrade was still running: the other
 * side or the path between went away mid-handshake (e.g. the remote's handshake deadline passed on a loaded
 * machine, or a relay dropped the circuit's stream). Unlike a refusal or a failed authentication, a fresh
 * attempt may succeed, so dialers that can retry tell it apart by this type.
 */
public final class UpgradeClosedException extends IOException {
    private static final long serialVersionUID = 1L;

    /** With the message {@code connection closed during upgrade}. */
    public UpgradeClosedException() {
        super("connection closed during upgrade");
    }
}
