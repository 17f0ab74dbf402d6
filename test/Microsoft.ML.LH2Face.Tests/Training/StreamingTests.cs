using Microsoft.ML.Data;
using Microsoft.ML.LH2Face.Data.Formats;
using Microsoft.ML.LH2Face.Testing;
using Microsoft.ML.LH2Face.Training;

namespace Microsoft.ML.LH2Face.Tests.Training;

/// <summary>
/// Options.DataLoading: a view readable by position (image folder, RecordIO pack) streams instead of being cached, with
/// the same pixels, batches, losses and model as the cache, and resumes mid-epoch as exactly.
/// </summary>
[TestClass]
public sealed class StreamingTests
{
    private const int Size = 32;

    /// <summary>6 identities x 4 images at 40 px (so the trainer resizes them to 32): 24 images, 3 steps of 8 per epoch.</summary>
    private static readonly Lazy<string> FolderRoot = new(() =>
    {
        var root = Directory.CreateTempSubdirectory("lh2face-stream-").FullName;
        BlobFaces.Write(root, identities: 6, samples: 4, size: 40, seed: 5);
        return root;
    });

    [ClassCleanup]
    public static void Cleanup()
    {
        if (FolderRoot.IsValueCreated)
            Directory.Delete(FolderRoot.Value, recursive: true);
    }

    private static IRandomAccessDataView Folder() => (IRandomAccessDataView)new ImageFolderReader(FolderRoot.Value).ToDataView();

    private static LH2FaceTrainer.Options Options(LH2FaceDataLoading loading, int epochs = 2, int threads = 0)
    {
        var options = TestFaces.QuickOptions(epochs, batchSize: 8);
        options.DataLoading = loading;
        options.LoaderThreads = threads;
        options.DropoutRate = 0.1f;
        return options;
    }

    /// <summary>Fits with <paramref name="options"/> and returns the step losses, the embeddings of every image and the LH2Face log lines.</summary>
    private static (float[] Losses, float[] Embeddings, List<string> Log) Fit(IDataView data, LH2FaceTrainer.Options options) => TestFaces.FitAndRecord(data, options);

    [TestMethod]
    public void Fill_StreamedOnTwoThreads_GivesTheCachedPixelsBitForBit()
    {
        var data = Folder();
        var ml = new MLContext(seed: 1);
        var prep = Preprocessing.ImageToPixels(ml.Transforms, "Image", "Resized", "Pixels", Size).Fit(data);
        var cached = FaceImageSet.Load(prep.Transform(data), "Label", "Pixels", Size, long.MaxValue, "test data", CancellationToken.None);
        var streamed = StreamedFaceImages.Open(data, prep, "Label", "Pixels", Size, threads: 2, "test data", "test", CancellationToken.None);
        CollectionAssert.AreEqual(cached.Labels, streamed.Labels);
        Assert.AreEqual(6, streamed.ClassCount);
        int[] indices = [23, 0, 7, 7, 12, 5, 19];
        bool[] flips = [false, true, false, true, true, false, false];
        var a = new float[indices.Length * cached.PixelsPerImage];
        var b = new float[a.Length];
        cached.Fill(indices, flips, a);
        streamed.Fill(indices, flips, b);
        CollectionAssert.AreEqual(a, b);
        // A real image, mirrored where asked: image 7 twice, plain then mirrored, differs and mirrors back.
        var plain = a.AsSpan(2 * cached.PixelsPerImage, cached.PixelsPerImage).ToArray();
        var mirrored = a.AsSpan(3 * cached.PixelsPerImage, cached.PixelsPerImage).ToArray();
        CollectionAssert.AreNotEqual(plain, mirrored);
        Assert.AreEqual(plain[5], mirrored[Size - 1 - 5]);
        Assert.IsTrue(plain.Distinct().Count() > 20, "decoded image, not a blank");
    }

    [TestMethod]
    public void Fit_StreamedAndCached_GiveTheSameLossesAndModel()
    {
        var data = Folder();
        var cached = Fit(data, Options(LH2FaceDataLoading.Cache));
        var streamed = Fit(data, Options(LH2FaceDataLoading.Stream, threads: 2));
        var oneThread = Fit(data, Options(LH2FaceDataLoading.Stream, threads: 1));
        Assert.AreEqual(6, cached.Losses.Length);
        CollectionAssert.AreEqual(cached.Losses, streamed.Losses);
        CollectionAssert.AreEqual(cached.Losses, oneThread.Losses);
        CollectionAssert.AreEqual(cached.Embeddings, streamed.Embeddings);
        Assert.IsTrue(cached.Log.Any(l => l == ("Training images: cached in memory (24 images, 73728 bytes of pixels).")), string.Join("\n", cached.Log));
        Assert.IsTrue(streamed.Log.Any(l => l == "Training images: streamed (24 images, 2 decoding thread(s); DataLoading = Stream)."), string.Join("\n", streamed.Log));
        Assert.IsTrue(streamed.Log.Any(l => l.StartsWith("Data loading: the steps waited ", StringComparison.Ordinal) && l.EndsWith(" of the 5 steps after the first waited more than 10 ms.", StringComparison.Ordinal)),
            string.Join("\n", streamed.Log));
    }

    [TestMethod]
    public void Fit_RecordIoPackLargerThanTheCache_StreamsUnderAutoAndFailsUnderCache()
    {
        var dir = Directory.CreateTempSubdirectory("lh2face-rec-").FullName;
        try
        {
            using (var writer = new InsightFaceRecordWriter(dir, imageSize: 40))
            {
                // The folder's PNG files, so the pack holds the same images.
                foreach (var entry in new ImageFolderReader(FolderRoot.Value).Entries)
                    writer.WriteImage(entry.LabelIndex, File.ReadAllBytes(entry.Path));
            }
            using var pack = InsightFaceRecordReader.Open(dir);
            var data = pack.ToDataView();
            Assert.IsInstanceOfType<IRandomAccessDataView>(data);
            long tenImages = 10L * 3 * Size * Size; // the pack needs 24 images' worth

            var auto = Options(LH2FaceDataLoading.Auto);
            auto.MaxCacheBytes = tenImages;
            var streamed = Fit(data, auto);
            Assert.IsTrue(streamed.Log.Any(l => l.Contains("streamed (24 images", StringComparison.Ordinal) && l.Contains("need at least 73728 bytes of pixels, more than MaxCacheBytes = 30720 bytes", StringComparison.Ordinal)),
                string.Join("\n", streamed.Log));

            // The same images from the image folder, cached without a cap: the same losses.
            var folder = Fit(Folder(), Options(LH2FaceDataLoading.Cache));
            CollectionAssert.AreEqual(folder.Losses, streamed.Losses);

            var cache = Options(LH2FaceDataLoading.Cache);
            cache.MaxCacheBytes = tenImages;
            var e = Assert.ThrowsExactly<InvalidOperationException>(() => new MLContext(1).Transforms.LH2Face(cache).Fit(data));
            StringAssert.Contains(e.Message, "needs more than MaxCacheBytes = 30720 bytes");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [TestMethod]
    public void Fit_ViewWithoutPositions_StreamIsRefusedAndAutoFailsPastTheCacheNamingTheFix()
    {
        var ml = new MLContext(seed: 1);
        var raw = TestFaces.PixelData(ml, TestFaces.PixelRows(4, 4, Size, 3), Size);
        var data = ml.Transforms.Conversion.MapValueToKey("Label", nameof(PixelRow.Identity)).Fit(raw).Transform(raw);
        var stream = Options(LH2FaceDataLoading.Stream);
        stream.ImageColumnName = nameof(PixelRow.Pixels);
        var e = Assert.ThrowsExactly<InvalidOperationException>(() => ml.Transforms.LH2Face(stream).Fit(data));
        StringAssert.StartsWith(e.Message, "Options.DataLoading = Stream needs training data that can be read by position (an IRandomAccessDataView)");
        StringAssert.Contains(e.Message, "ImageFolderReader.ToDataView()");

        var auto = Options(LH2FaceDataLoading.Auto);
        auto.ImageColumnName = nameof(PixelRow.Pixels);
        auto.MaxCacheBytes = 4 * 3 * Size * Size;
        e = Assert.ThrowsExactly<InvalidOperationException>(() => ml.Transforms.LH2Face(auto).Fit(data));
        StringAssert.Contains(e.Message, "needs more than MaxCacheBytes = 12288 bytes");
        StringAssert.Contains(e.Message, "with DataLoading = Auto or Stream");
    }

    [TestMethod]
    public void Options_BadLoaderThreadsOrCache_ThrowNamingTheOption()
    {
        var options = Options(LH2FaceDataLoading.Stream, threads: -1);
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new MLContext(1).Transforms.LH2Face(options));
        StringAssert.Contains(e.Message, "LoaderThreads");
        options = Options(LH2FaceDataLoading.Auto);
        options.MaxCacheBytes = -5;
        e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new MLContext(1).Transforms.LH2Face(options));
        StringAssert.Contains(e.Message, "MaxCacheBytes");
    }

    [TestMethod]
    public void Resume_StreamedRunKilledMidEpoch_ReproducesTheUninterruptedCachedLosses()
    {
        var data = Folder();
        var dir = Directory.CreateTempSubdirectory("lh2face-stream-ckpt-").FullName;
        try
        {
            var full = Fit(data, Options(LH2FaceDataLoading.Cache, epochs: 3));
            Assert.AreEqual(9, full.Losses.Length);

            using var cts = new CancellationTokenSource();
            var killed = Options(LH2FaceDataLoading.Stream, epochs: 3, threads: 2);
            killed.CheckpointDirectory = dir;
            killed.CheckpointEveryNSteps = 2;
            killed.CancellationToken = cts.Token;
            killed.Progress = new ProgressRecorder { OnReport = p => { if (p.Step == 5) cts.Cancel(); } };
            Assert.ThrowsExactly<OperationCanceledException>(() => new MLContext(1).Transforms.LH2Face(killed).Fit(data));
            Assert.AreEqual("step-00000004", File.ReadAllText(Path.Combine(dir, "latest")), "step 4 is in the middle of epoch 2");

            var resumed = Options(LH2FaceDataLoading.Stream, epochs: 3, threads: 2);
            resumed.ResumeFrom = dir;
            var after = Fit(data, resumed);
            CollectionAssert.AreEqual(full.Losses.Skip(4).ToArray(), after.Losses);
            CollectionAssert.AreEqual(full.Embeddings, after.Embeddings);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
