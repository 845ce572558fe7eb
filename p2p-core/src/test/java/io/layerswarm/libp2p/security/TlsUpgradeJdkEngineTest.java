package io.layerswarm.libp2p.security;

import io.layerswarm.libp2p.tls.TlsSecurity;

/** {@link TlsUpgradeTest} on the JDK's {@code SSLEngine}, the fallback where BoringSSL does not load. */
class TlsUpgradeJdkEngineTest extends TlsUpgradeTest {
    @Override
    TlsSecurity.Engine engine() {
        return TlsSecurity.Engine.JDK;
    }
}
