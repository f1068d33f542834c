package org.imagingpipeline.dicomnet;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * A parsed A-ASSOCIATE-AC (PS3.8 9.3.3): per presentation context its result and transfer syntax, and the
 * largest PDU the acceptor takes.
 */
public record AssociateAccept(Map<Integer, Integer> results, Map<Integer, String> transferSyntaxes, long maxPduLength) {

    public static AssociateAccept parse(byte[] body) {
        ByteBuffer b = ByteBuffer.wrap(body);
        b.position(2 + 2 + 16 + 16 + 32);
        Map<Integer, Integer> results = new HashMap<>();
        Map<Integer, String> ts = new HashMap<>();
        long max = 0;
        while (b.remaining() >= 4) {
            int type = b.get() & 0xff;
            b.get();
            int len = b.getShort() & 0xffff;
            if (len > b.remaining()) throw new IllegalArgumentException("A-ASSOCIATE-AC item overruns");
            ByteBuffer item = b.slice(b.position(), len);
            b.position(b.position() + len);
            if (type == 0x21) {
                int id = item.get() & 0xff;
                item.get();
                int result = item.get() & 0xff;
                item.get();
                results.put(id, result);
                while (item.remaining() >= 4) {
                    int st = item.get() & 0xff;
                    item.get();
                    int sl = item.getShort() & 0xffff;
                    byte[] v = new byte[sl];
                    item.get(v);
                    if (st == 0x40) ts.put(id, AssociateRequest.trim(new String(v, StandardCharsets.US_ASCII)));
                }
            } else if (type == 0x50) {
                while (item.remaining() >= 4) {
                    int st = item.get() & 0xff;
                    item.get();
                    int sl = item.getShort() & 0xffff;
                    ByteBuffer sub = item.slice(item.position(), sl);
                    item.position(item.position() + sl);
                    if (st == 0x51 && sl == 4) max = sub.getInt() & 0xffffffffL;
                }
            }
        }
        return new AssociateAccept(results, ts, max);
    }
}
