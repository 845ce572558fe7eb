package io.layerswarm.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class RegistryFixtureTest {
    @Test
    void missingToolFailsWithInstallHint() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> RegistryFixture.requireTool(Path.of("/nonexistent/docker-registry"), "docker-registry"));
        assertEquals("/nonexistent/docker-registry is missing: install the Debian package 'docker-registry' "
                + "(scripts/install-system-packages.sh)", e.getMessage());
        RegistryFixture.requireTool(Path.of("/bin/sh"), "dash"); // present: no exception
    }
}
