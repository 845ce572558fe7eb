package io.layerswarm.nat.stun;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;

/**
 * STUN (RFC 5389) binding message encoding. Decoding checks the header (leading zero bits, magic
 * cookie, length a multiple of 4 matching the datagram) and every attribute's bounds; anything else
 * gives a {@link StunException} so a garbage datagram is dropped, never half-read.
 */
public final class StunCodec {
    /** RFC 5389 magic cookie. */
    public static final int MAGIC_COOKIE = 0x2112A442;
    /** Largest datagram we parse (a binding response is far smaller). */
    public static final int MAX_MESSAGE_SIZE = 1500;
    static final int HEADER = 20;
    static final int MAPPED_ADDRESS = 0x0001;
    static final int XOR_MAPPED_ADDRESS = 0x0020;

    private StunCodec() {
    }

    /** A binding request with {@code transactionId} and no attributes. */
    public static byte[] bindingRequest(byte[] transactionId) {
        ByteBuffer b = ByteBuffer.allocate(HEADER);
        b.putShort((short) StunMessage.BINDING_REQUEST).putShort((short) 0).putInt(MAGIC_COOKIE).put(transactionId);
        return b.array();
    }

    /** A binding success response carrying XOR-MAPPED-ADDRESS (what a STUN server sends). */
    public static byte[] bindingSuccess(byte[] transactionId, InetSocketAddress mapped) {
        byte[] addr = mapped.getAddress().getAddress();
        int valueLen = 4 + addr.length;
        ByteBuffer b = ByteBuffer.allocate(HEADER + 4 + valueLen);
        b.putShort((short) StunMessage.BINDING_SUCCESS).putShort((short) (4 + valueLen)).putInt(MAGIC_COOKIE)
                .put(transactionId);
        b.putShort((short) XOR_MAPPED_ADDRESS).putShort((short) valueLen);
        b.put((byte) 0).put((byte) (addr.length == 4 ? 1 : 2)).putShort((short) (mapped.getPort() ^ (MAGIC_COOKIE >>> 16)));
        b.put(xor(addr, transactionId));
        return b.array();
    }

    /** Parses one datagram. */
    public static StunMessage decode(byte[] datagram, int length) throws StunException {
        if (length < HEADER || length > MAX_MESSAGE_SIZE) {
            throw new StunException("STUN message of " + length + " bytes (must be 20.." + MAX_MESSAGE_SIZE + ")");
        }
        ByteBuffer b = ByteBuffer.wrap(datagram, 0, length);
        int type = b.getShort() & 0xFFFF;
        int bodyLen = b.getShort() & 0xFFFF;
        if ((type & 0xC000) != 0) {
            throw new StunException("not a STUN message: leading bits set in type 0x" + Integer.toHexString(type));
        }
        if (b.getInt() != MAGIC_COOKIE) {
            throw new StunException("not a STUN message: wrong magic cookie");
        }
        if (bodyLen % 4 != 0 || HEADER + bodyLen != length) {
            throw new StunException("STUN length " + bodyLen + " does not match the " + length + "-byte datagram");
        }
        byte[] txid = new byte[12];
        b.get(txid);
        InetSocketAddress xorMapped = null;
        InetSocketAddress mapped = null;
        while (b.remaining() > 0) {
            if (b.remaining() < 4) {
                throw new StunException("truncated STUN attribute header");
            }
            int attr = b.getShort() & 0xFFFF;
            int len = b.getShort() & 0xFFFF;
            int padded = (len + 3) & ~3;
            if (padded > b.remaining()) {
                throw new StunException("STUN attribute 0x" + Integer.toHexString(attr) + " of " + len
                        + " bytes overruns the message");
            }
            byte[] value = new byte[len];
            b.get(value);
            b.position(b.position() + padded - len);
            if (attr == XOR_MAPPED_ADDRESS) {
                xorMapped = address(value, true, txid);
            } else if (attr == MAPPED_ADDRESS) {
                mapped = address(value, false, txid);
            }
        }
        return new StunMessage(type, txid, xorMapped != null ? xorMapped : mapped);
    }

    private static InetSocketAddress address(byte[] v, boolean xored, byte[] txid) throws StunException {
        if (v.length < 4) {
            throw new StunException("STUN address attribute of " + v.length + " bytes");
        }
        int family = v[1] & 0xFF;
        int addrLen = family == 1 ? 4 : family == 2 ? 16 : -1;
        if (addrLen < 0 || v.length != 4 + addrLen) {
            throw new StunException("STUN address attribute with family " + family + " and " + v.length + " bytes");
        }
        int port = ((v[2] & 0xFF) << 8) | (v[3] & 0xFF);
        byte[] addr = java.util.Arrays.copyOfRange(v, 4, v.length);
        if (xored) {
            port ^= MAGIC_COOKIE >>> 16;
            addr = xor(addr, txid);
        }
        try {
            return new InetSocketAddress(InetAddress.getByAddress(addr), port);
        } catch (UnknownHostException e) {
            throw new StunException("bad STUN address: " + e.getMessage());
        }
    }

    /** XORs an address with the cookie (IPv4) or cookie + transaction id (IPv6); its own inverse. */
    private static byte[] xor(byte[] addr, byte[] txid) {
        byte[] key = ByteBuffer.allocate(16).putInt(MAGIC_COOKIE).put(txid).array();
        byte[] out = new byte[addr.length];
        for (int i = 0; i < addr.length; i++) {
            out[i] = (byte) (addr[i] ^ key[i]);
        }
        return out;
    }
}
