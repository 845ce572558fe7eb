package io.layerswarm.nat.ice;

import java.util.List;
import java.util.logging.Handler;
import java.util.logging.Level;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.bridge.SLF4JBridgeHandler;

/**
 * Sends what ice4j and jitsi-utils log through {@code java.util.logging} to SLF4J (jul-to-slf4j), so it lands
 * in the node's log with everything else instead of on stderr through JUL's console handler. Only their
 * JUL loggers are rerouted (an embedding application's own JUL set-up stays as it is); their JUL level follows
 * the SLF4J level of the logger {@value #ICE4J}, so records SLF4J would drop are not even built.
 */
final class Ice4jLogging {
    /** The SLF4J logger whose level governs ice4j's records ({@code <logger name="org.ice4j" level="WARN"/>}). */
    static final String ICE4J = "org.ice4j";

    /**
     * Held here because JUL keeps loggers only weakly: a collected logger would come back without the bridge.
     * Fixed at class initialisation, never changed.
     */
    private static final List<java.util.logging.Logger> ROUTED = route(List.of(ICE4J, "org.jitsi",
            // jicoco's config logs under its class's simple name
            "JitsiConfig"));

    private Ice4jLogging() {
    }

    /** Makes sure the routing is in place (it is done once, when this class initialises). */
    static void install() {
        if (ROUTED.isEmpty()) {
            throw new IllegalStateException("ice4j logging not routed");
        }
    }

    private static List<java.util.logging.Logger> route(List<String> names) {
        Level level = julLevel(LoggerFactory.getLogger(ICE4J));
        return names.stream().map(name -> {
            java.util.logging.Logger jul = java.util.logging.Logger.getLogger(name);
            for (Handler h : jul.getHandlers()) {
                jul.removeHandler(h);
            }
            jul.addHandler(new SLF4JBridgeHandler());
            jul.setUseParentHandlers(false);
            jul.setLevel(level);
            return jul;
        }).toList();
    }

    /** The JUL level that lets through what {@code slf4j} would log. */
    static Level julLevel(Logger slf4j) {
        if (slf4j.isDebugEnabled()) {
            return slf4j.isTraceEnabled() ? Level.FINEST : Level.FINE;
        }
        if (slf4j.isInfoEnabled()) {
            return Level.INFO;
        }
        if (slf4j.isWarnEnabled()) {
            return Level.WARNING;
        }
        return slf4j.isErrorEnabled() ? Level.SEVERE : Level.OFF;
    }
}
