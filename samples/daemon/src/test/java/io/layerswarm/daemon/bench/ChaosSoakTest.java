package io.layerswarm.daemon.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class ChaosSoakTest {
    @Test
    void skopeoErrorsAreClassified() {
        // the message skopeo printed when a node's mirror served a rotted blob (soak run, seed 2)
        assertEquals("digest_mismatch", ChaosSoak.errorClass("level=fatal msg='writing blob: happened during read:"
                + " Digest did not match, expected sha256:1aa18d837806..."));
        assertEquals("connection_refused", ChaosSoak.errorClass("dial tcp 127.0.0.1:1: connect: connection refused"));
        assertEquals("connection_dropped", ChaosSoak.errorClass("reading blob: unexpected EOF"));
        assertEquals("timeout", ChaosSoak.errorClass("context deadline exceeded"));
        assertEquals("not_found", ChaosSoak.errorClass("manifest unknown"));
        assertEquals("server_error", ChaosSoak.errorClass("received unexpected HTTP status: 502 Bad Gateway"));
        assertEquals("other", ChaosSoak.errorClass(null));
    }
}
