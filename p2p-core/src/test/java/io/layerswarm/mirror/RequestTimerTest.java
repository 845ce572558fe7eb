package io.layerswarm.mirror;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class RequestTimerTest {
    @Test
    void pairsPipelinedRequestsWithTheirResponsesInOrder() {
        List<String> seen = new ArrayList<>();
        EmbeddedChannel ch = new EmbeddedChannel(new RequestTimer(new MirrorListener() {
            @Override
            public void requestServed(String route, String method, int status, long nanos) {
                seen.add(route + " " + method + " " + status + (nanos >= 0 ? "" : " negative"));
            }
        }));
        ch.writeInbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/v2/app/manifests/1.0?ns=r"));
        ch.writeInbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.HEAD, "/v2/app/blobs/sha256:ab"));
        ch.writeOutbound(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK));
        ch.writeOutbound(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NOT_FOUND));
        // a response with no request recorded (cannot happen through the codec) is not counted
        ch.writeOutbound(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.BAD_REQUEST));
        assertEquals(List.of("manifest GET 200", "blob HEAD 404"), seen);
        ch.finishAndReleaseAll();
    }

    @Test
    void routeLabelsAreAFixedSet() {
        assertEquals("base", RequestTimer.routeOf("/v2/"));
        assertEquals("base", RequestTimer.routeOf("/v2?ns=x"));
        assertEquals("manifest", RequestTimer.routeOf("/v2/a/b/manifests/latest"));
        assertEquals("blob", RequestTimer.routeOf("/v2/a/blobs/sha256:00"));
        assertEquals("other", RequestTimer.routeOf("/v2/a/tags/list"));
        assertEquals("other", RequestTimer.routeOf("/../../etc/passwd"));
        assertEquals("other", RequestTimer.routeOf("\u0000garbage"));
    }
}
