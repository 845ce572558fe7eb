package io.layerswarm.daemon.handoff;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.daemon.CliRun;
import io.layerswarm.daemon.Main;
import java.net.ServerSocket;
import org.junit.jupiter.api.Test;

/** {@code layerswarm handoff} without a node: bad flags and an unreachable control API. */
class HandoffCommandTest {
    @Test
    void missingFlagsAreBadArguments() {
        CliRun r = CliRun.of("handoff", "run", "--container", "svc");
        assertEquals(Main.BAD_ARGUMENTS, r.status());
        assertTrue(r.err().contains("--target"), r.err());
    }

    @Test
    void unreachableControlApiIsOneClearError() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort(); // closed again: nothing listens there
        }
        CliRun r = CliRun.of("handoff", "prepare", "--container", "svc", "--target", "12D3KooWabc",
                "--control", "http://127.0.0.1:" + port);
        assertEquals(1, r.status());
        assertTrue(r.err().startsWith("error: cannot reach the node's handoff control API"), r.err());
    }
}
