namespace Microsoft.ML.LH2Face.Data.Formats;

/// <summary>One image record of an insightface RecordIO pack.</summary>
/// <param name="Key">The record key in train.idx.</param>
/// <param name="Label">The 0-based class index (header label, or its first label).</param>
/// <param name="Header">The full record header.</param>
/// <param name="Image">The encoded image bytes (JPEG in MS1M/Glint/WebFace packs).</param>
public sealed record InsightFaceRecord(long Key, int Label, InsightFaceRecordHeader Header, byte[] Image);
