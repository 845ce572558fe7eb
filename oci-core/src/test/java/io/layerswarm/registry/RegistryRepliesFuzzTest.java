package io.layerswarm.registry;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.layerswarm.testing.DecoderContract;
import java.net.URI;
import java.nio.charset.StandardCharsets;

/**
 * Fuzzes what a registry or its token server sends back besides documents: {@code WWW-Authenticate}
 * challenges and token responses. Each parser returns a value or throws its documented exception.
 */
class RegistryRepliesFuzzTest {
    private static final URI REALM = URI.create("http://127.0.0.1:1/token");
    private static final DecoderContract HEADER = DecoderContract.allowing(4L << 20, IllegalArgumentException.class);
    private static final DecoderContract TOKEN = DecoderContract.allowing(16L << 20, RegistryException.class);

    @FuzzTest
    void authChallenge(byte[] input) {
        String header = new String(input, StandardCharsets.ISO_8859_1);
        HEADER.check(() -> AuthChallenge.parse(header));
    }

    @FuzzTest
    void tokenResponse(byte[] input) {
        TOKEN.check(() -> RegistryAuth.parseToken(input, REALM));
    }
}
