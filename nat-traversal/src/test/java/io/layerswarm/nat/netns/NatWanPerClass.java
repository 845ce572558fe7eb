package io.layerswarm.nat.netns;

import io.layerswarm.testing.Closer;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * The life cycle of the NAT ITs: the wan side ({@link NatClouds}: namespaces, coturn, relay) is started once per
 * test class, since no test alters it; what a test opens ({@link NatClouds#pair}, its nodes) goes into
 * {@link #closer} and is closed after that test.
 */
@Tag("root")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class NatWanPerClass {
    /** Where the relay and the nodes log. */
    Path dir;
    NatClouds net;
    final Closer closer = new Closer();

    @BeforeAll
    void startWan(@TempDir(cleanup = CleanupMode.ON_SUCCESS) Path dir) throws Exception { // logs kept on failure
        this.dir = dir;
        net = NatClouds.start(dir);
        wanStarted();
    }

    /** Adds what the class shares on the running wan side (e.g. the registry); nothing by default. */
    void wanStarted() throws Exception {
    }

    @AfterEach
    void closeTest() throws Exception {
        closer.close();
    }

    @AfterAll
    void stopWan() throws Exception {
        if (net != null) {
            net.close();
        }
    }
}
