package org.imagingpipeline.ingest.dicomweb;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.pixelmed.dicom.Attribute;
import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.AttributeTag;
import com.pixelmed.dicom.DicomException;
import com.pixelmed.dicom.SequenceAttribute;
import com.pixelmed.dicom.SequenceItem;
import com.pixelmed.dicom.TagFromName;
import java.util.Base64;
import java.util.Iterator;
import java.util.Locale;
import java.util.Set;
import java.util.TreeMap;
import org.imagingpipeline.events.EventJson;

/**
 * The DICOM JSON model (PS3.18 F.2): {@code {"0020000D":{"vr":"UI","Value":["1.2.3"]}}}. Writes single attributes for
 * QIDO-RS answers and whole headers (read by PixelMed) for WADO-RS metadata. Bulk data (PixelData and other binary
 * values over {@link #MAX_INLINE_BINARY} bytes) are left out; patient names and birth dates are never written.
 */
public final class DicomJson {
    /** Binary values up to this size are written as InlineBinary, larger ones left out. */
    static final int MAX_INLINE_BINARY = 1024;
    /** Tags PixelMed's dictionary lacks. */
    public static final AttributeTag RETRIEVE_URL = new AttributeTag(0x0008, 0x1190);
    public static final AttributeTag AVAILABLE_TRANSFER_SYNTAX_UID = new AttributeTag(0x0008, 0x3002);
    static final AttributeTag PATIENT_BIRTH_NAME = new AttributeTag(0x0010, 0x1005);
    /** Never returned (the index does not hold them and metadata strips them): names, birth date and time. */
    static final Set<AttributeTag> WITHHELD = Set.of(TagFromName.PatientName, TagFromName.PatientBirthDate, TagFromName.PatientBirthTime,
            TagFromName.OtherPatientNames, PATIENT_BIRTH_NAME, TagFromName.PatientMotherBirthName);
    private static final Set<String> BINARY = Set.of("OB", "OW", "OF", "OD", "OL", "OV", "UN");
    private static final Set<String> NUMBERS = Set.of("US", "SS", "UL", "SL", "FL", "FD", "IS", "DS", "UV", "SV");

    private DicomJson() {
    }

    /** The 8-digit upper-case hex key of a tag. */
    public static String key(AttributeTag tag) {
        return String.format(Locale.ROOT, "%04X%04X", tag.getGroup(), tag.getElement());
    }

    /** Sets a string-valued attribute (nothing when the value is null). */
    public static void put(ObjectNode dataset, AttributeTag tag, String vr, String value) {
        if (value == null || value.isEmpty()) return;
        ObjectNode a = dataset.putObject(key(tag));
        a.put("vr", vr);
        a.putArray("Value").add(value);
    }

    /** Sets a multi-valued string attribute (nothing when empty). */
    public static void put(ObjectNode dataset, AttributeTag tag, String vr, Iterable<String> values) {
        Iterator<String> it = values.iterator();
        if (!it.hasNext()) return;
        ObjectNode a = dataset.putObject(key(tag));
        a.put("vr", vr);
        ArrayNode v = a.putArray("Value");
        it.forEachRemaining(v::add);
    }

    /** Sets a numeric attribute (nothing when null). */
    public static void put(ObjectNode dataset, AttributeTag tag, String vr, Number value) {
        if (value == null) return;
        ObjectNode a = dataset.putObject(key(tag));
        a.put("vr", vr);
        if (value instanceof Long || value instanceof Integer) a.putArray("Value").add(value.longValue());
        else a.putArray("Value").add(value.doubleValue());
    }

    /** An object whose keys come out in tag order (DICOM JSON lists attributes in ascending tag order). */
    public static ObjectNode sorted(ObjectNode dataset) {
        TreeMap<String, JsonNode> byTag = new TreeMap<>();
        dataset.fields().forEachRemaining(e -> byTag.put(e.getKey(), e.getValue()));
        ObjectNode out = EventJson.mapper().createObjectNode();
        byTag.forEach(out::set);
        return out;
    }

    /** The attributes of a header (group 0002 and withheld ones left out) as one DICOM JSON dataset. */
    public static ObjectNode of(AttributeList list) throws DicomException {
        ObjectNode out = EventJson.mapper().createObjectNode();
        for (Attribute a : list.values()) { // AttributeList is a TreeMap: ascending tags
            AttributeTag tag = a.getTag();
            if (tag.getGroup() == 0x0002 || WITHHELD.contains(tag) || tag.equals(TagFromName.PixelData)) continue;
            String vr = a.getVRAsString();
            if (vr == null || vr.length() != 2) vr = "UN";
            if (BINARY.contains(vr) && a.getVL() > MAX_INLINE_BINARY) continue;
            ObjectNode node = out.putObject(key(tag));
            node.put("vr", vr);
            write(node, a, vr);
        }
        return out;
    }

    private static void write(ObjectNode node, Attribute a, String vr) throws DicomException {
        if (a instanceof SequenceAttribute sq) {
            ArrayNode items = EventJson.mapper().createArrayNode();
            for (int i = 0; i < sq.getNumberOfItems(); i++) {
                SequenceItem item = sq.getItem(i);
                items.add(of(item.getAttributeList()));
            }
            if (!items.isEmpty()) node.set("Value", items);
            return;
        }
        if (BINARY.contains(vr)) {
            byte[] bytes = a.getByteValues();
            if (bytes != null && bytes.length > 0) node.put("InlineBinary", Base64.getEncoder().encodeToString(bytes));
            return;
        }
        String[] values = a.getStringValues();
        if (values == null || values.length == 0) return;
        ArrayNode v = node.putArray("Value");
        for (String s : values) {
            String t = s == null ? "" : s.trim();
            if (vr.equals("PN")) {
                ObjectNode pn = v.addObject();
                if (!t.isEmpty()) pn.put("Alphabetic", t);
            } else if (NUMBERS.contains(vr)) {
                if (t.isEmpty()) v.addNull();
                else number(v, t);
            } else if (vr.equals("AT")) {
                v.add(t.replace("0x", "").replaceAll("[^0-9A-Fa-f]", "").toUpperCase(Locale.ROOT));
            } else {
                v.add(t);
            }
        }
    }

    private static void number(ArrayNode v, String t) {
        try {
            if (t.matches("[+-]?[0-9]{1,18}")) v.add(Long.parseLong(t));
            else v.add(Double.parseDouble(t));
        } catch (NumberFormatException e) {
            v.add(t); // a malformed IS/DS value: kept as sent rather than dropped
        }
    }
}
