using Microsoft.ML.Data;
using Microsoft.ML.LH2Face.Data.Formats;

namespace Microsoft.ML.LH2Face.Data.Tests.Formats;

[TestClass]
public sealed class IjbMetaTests
{
    private static void WriteMeta(TempFolder temp, string prefix, string tidMid, string points, string pairs)
    {
        Directory.CreateDirectory(temp.File("meta"));
        File.WriteAllText(temp.File($"meta/{prefix}_face_tid_mid.txt"), tidMid);
        File.WriteAllText(temp.File($"meta/{prefix}_name_5pts_score.txt"), points);
        File.WriteAllText(temp.File($"meta/{prefix}_template_pair_label.txt"), pairs);
    }

    [TestMethod]
    public void Read_HandWrittenIjbC_GivesFacesAndPairs()
    {
        using var temp = new TempFolder();
        WriteMeta(
            temp,
            "ijbc",
            "1.jpg 1 69544\r\n2.jpg  1 3542\r\n",
            "1.jpg 46.0 62.5 87.1 60.1 66.3 82.9 50.2 99.4 85.0 97.7 0.99\n2.jpg 1 2 3 4 5 6 7 8 9 10 0.5",
            "1 11065 1\n1 11066 0\n\n");
        var meta = IjbMeta.Read(temp.Path, IjbVariant.IjbC);
        Assert.AreEqual(2, meta.Faces.Count);
        var face = meta.Faces[0];
        Assert.AreEqual("1.jpg", face.ImageName);
        Assert.AreEqual(1, face.TemplateId);
        Assert.AreEqual(69544, face.MediaId);
        CollectionAssert.AreEqual(new[] { 46.0f, 62.5f, 87.1f, 60.1f, 66.3f, 82.9f, 50.2f, 99.4f, 85.0f, 97.7f }, face.Landmarks);
        Assert.AreEqual(0.99f, face.Faceness);
        Assert.AreEqual(3542, meta.Faces[1].MediaId);
        Assert.AreEqual(Path.Combine(temp.Path, "loose_crop", "2.jpg"), meta.ImagePath(meta.Faces[1]));
        CollectionAssert.AreEqual(new[] { new IjbTemplatePair(1, 11065, 1), new IjbTemplatePair(1, 11066, 0) }, meta.TemplatePairs.ToArray());
        Assert.AreEqual(0, meta.CorruptLineCount);
    }

    [TestMethod]
    public void Write_IjbB_ReadsBackTheSameRows()
    {
        using var temp = new TempFolder();
        var faces = new[]
        {
            new IjbFace("img_1.jpg", 3, 7, [1.5f, 2.25f, 3, 4, 5, 6, 7, 8, 9, 10.125f], 0.875f),
            new IjbFace("img_2.jpg", 4, 8, [0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f, 0.8f, 0.9f, 1.1f], 1f / 3),
        };
        var pairs = new[] { new IjbTemplatePair(3, 4, 0), new IjbTemplatePair(3, 3, 1) };
        IjbMetaWriter.Write(temp.Path, IjbVariant.IjbB, faces, pairs);
        Assert.IsTrue(Directory.Exists(temp.File("loose_crop")));
        Assert.AreEqual("img_1.jpg 3 7\nimg_2.jpg 4 8\n", File.ReadAllText(temp.File("meta/ijbb_face_tid_mid.txt")));
        var meta = IjbMeta.Read(temp.Path, IjbVariant.IjbB);
        Assert.AreEqual(2, meta.Faces.Count);
        for (int i = 0; i < faces.Length; i++)
        {
            Assert.AreEqual(faces[i].ImageName, meta.Faces[i].ImageName);
            Assert.AreEqual(faces[i].TemplateId, meta.Faces[i].TemplateId);
            Assert.AreEqual(faces[i].MediaId, meta.Faces[i].MediaId);
            CollectionAssert.AreEqual(faces[i].Landmarks, meta.Faces[i].Landmarks);
            Assert.AreEqual(faces[i].Faceness, meta.Faces[i].Faceness);
        }
        CollectionAssert.AreEqual(pairs, meta.TemplatePairs.ToArray());
    }

    [TestMethod]
    public void Read_MalformedLine_ThrowsNamingFileLineAndOffset()
    {
        using var temp = new TempFolder();
        WriteMeta(temp, "ijbb", "a.jpg 1 2\nb.jpg 1 2\n", "a.jpg 1 2 3 4 5 6 7 8 9 10 1\nb.jpg 1 2 3 4 5 6 7 8 9 x 1\n", "1 1 1\n");
        var e = Assert.ThrowsExactly<InvalidDataException>(() => IjbMeta.Read(temp.Path, IjbVariant.IjbB));
        Assert.Contains($"'{temp.File("meta/ijbb_name_5pts_score.txt")}' line 2 (offset 29): coordinate 10 \"x\" is not a finite number", e.Message);
    }

    [TestMethod]
    public void Read_NamesDisagreeOrBadLabel_Throws()
    {
        using var temp = new TempFolder();
        WriteMeta(temp, "ijbb", "a.jpg 1 2\n", "z.jpg 1 2 3 4 5 6 7 8 9 10 1\n", "1 1 1\n");
        Assert.Contains("image 'z.jpg' differs from 'a.jpg'", Assert.ThrowsExactly<InvalidDataException>(() => IjbMeta.Read(temp.Path, IjbVariant.IjbB)).Message);
        WriteMeta(temp, "ijbb", "a.jpg 1 2\n", "a.jpg 1 2 3 4 5 6 7 8 9 10 1\n", "1 1 1\n1 2 5\n");
        Assert.Contains("line 2 (offset 6): label must be 0 or 1, got 5", Assert.ThrowsExactly<InvalidDataException>(() => IjbMeta.Read(temp.Path, IjbVariant.IjbB)).Message);
    }

    [TestMethod]
    public void Read_SkipCorrupt_CountsSkippedLines()
    {
        using var temp = new TempFolder();
        WriteMeta(
            temp,
            "ijbc",
            "a.jpg 1 2\nb.jpg 1\nc.jpg 2 3\n",
            "a.jpg 1 2 3 4 5 6 7 8 9 10 1\nb.jpg 1 2 3 4 5 6 7 8 9 10 1\nc.jpg 1 2 3 4 5 6 7 8 9 10 0.5\n",
            "1 2 1\n1 two 0\n2 2 1\n");
        var meta = IjbMeta.Read(temp.Path, IjbVariant.IjbC, skipCorrupt: true);
        CollectionAssert.AreEqual(new[] { "a.jpg", "c.jpg" }, meta.Faces.Select(f => f.ImageName).ToArray());
        CollectionAssert.AreEqual(new[] { new IjbTemplatePair(1, 2, 1), new IjbTemplatePair(2, 2, 1) }, meta.TemplatePairs.ToArray());
        Assert.AreEqual(2, meta.CorruptLineCount);
    }

    [TestMethod]
    public void ToDataView_WrittenMeta_ImagesIdsAndLandmarks()
    {
        using var temp = new TempFolder();
        IjbMetaWriter.Write(temp.Path, IjbVariant.IjbC, [new IjbFace("ijbc_1.png", 5, 9, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.25f)], []);
        File.WriteAllBytes(temp.File("loose_crop/ijbc_1.png"), TestImages.Png(6, 5, 1));
        var view = IjbMeta.Read(temp.Path, IjbVariant.IjbC).ToDataView();
        using var cursor = view.GetRowCursor(view.Schema);
        var image = cursor.GetGetter<MLImage>(view.Schema["Image"]);
        var template = cursor.GetGetter<int>(view.Schema["TemplateId"]);
        var landmarks = cursor.GetGetter<VBuffer<float>>(view.Schema["Landmarks"]);
        var faceness = cursor.GetGetter<float>(view.Schema["Faceness"]);
        Assert.IsTrue(cursor.MoveNext());
        MLImage value = null!;
        int tid = 0;
        VBuffer<float> points = default;
        float score = 0;
        image(ref value);
        template(ref tid);
        landmarks(ref points);
        faceness(ref score);
        using (value)
        {
            Assert.AreEqual(6, value.Width);
        }
        Assert.AreEqual(5, tid);
        CollectionAssert.AreEqual(new float[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 }, points.DenseValues().ToArray());
        Assert.AreEqual(0.25f, score);
        Assert.IsFalse(cursor.MoveNext());
    }
}
