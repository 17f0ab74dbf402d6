using System.Runtime;
using Microsoft.ML.Data;
using Microsoft.ML.LH2Face.Training;

namespace Microsoft.ML.LH2Face.Tests.Training;

[TestClass]
public sealed class CollectorPauseTests
{
    [TestMethod]
    public void Start_HoldsANoGcRegionUntilDisposed_AndANestedStartDoesNothing()
    {
        int collections = GC.CollectionCount(0);
        using (CollectorPause.Start())
        {
            Assert.AreEqual(GCLatencyMode.NoGCRegion, GCSettings.LatencyMode);
            int afterStart = GC.CollectionCount(0);
            using (CollectorPause.Start())
                Assert.AreEqual(GCLatencyMode.NoGCRegion, GCSettings.LatencyMode, "the nested pause leaves the outer region alone");
            Assert.AreEqual(GCLatencyMode.NoGCRegion, GCSettings.LatencyMode, "disposing the nested pause does not end the outer region");
            var garbage = new List<byte[]>();
            for (int i = 0; i < 16; i++)
                garbage.Add(new byte[1 << 20]); // 16 MB, inside the 64 MB budget
            Assert.AreEqual(afterStart, GC.CollectionCount(0), "no collection inside the region");
            Assert.IsGreaterThanOrEqualTo(collections, afterStart);
        }
        Assert.AreNotEqual(GCLatencyMode.NoGCRegion, GCSettings.LatencyMode);
    }

    [TestMethod]
    public void Start_BudgetExceeded_CountsABrokenRegion()
    {
        int before = CollectorPause.BrokenRegions;
        using (CollectorPause.Start())
        {
            var garbage = new List<byte[]>();
            for (int i = 0; i < 80; i++)
                garbage.Add(new byte[1 << 20]); // 80 MB: more than the budget, so the runtime collects and ends the region
        }
        Assert.AreEqual(before + 1, CollectorPause.BrokenRegions);
        Assert.AreNotEqual(GCLatencyMode.NoGCRegion, GCSettings.LatencyMode);
    }

    private sealed class Row
    {
        public uint Label { get; set; }

        public float[] Pixels { get; set; } = Array.Empty<float>();
    }

    [TestMethod]
    public void BatchLoader_ReleasedBuffers_AreReusedSoTheProducerStopsAllocating()
    {
        var ml = new MLContext(seed: 1);
        var definition = SchemaDefinition.Create(typeof(Row));
        definition[nameof(Row.Label)].ColumnType = new KeyDataViewType(typeof(uint), 8);
        definition[nameof(Row.Pixels)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 12);
        var rows = Enumerable.Range(0, 8).Select(i => new Row { Label = (uint)(i % 4 + 1), Pixels = Enumerable.Repeat((float)i, 12).ToArray() });
        var images = FaceImageSet.Load(ml.Data.LoadFromEnumerable(rows, definition), nameof(Row.Label), nameof(Row.Pixels), 2, long.MaxValue, "test data", CancellationToken.None);
        using var loader = new BatchLoader(images, batchSize: 2, seed: 3, flip: false, firstStep: 0, lastStep: 40, CancellationToken.None);
        var buffers = new HashSet<float[]>(ReferenceEqualityComparer.Instance);
        for (int step = 0; step < 40; step++)
        {
            var batch = loader.Next();
            Assert.AreEqual(step, batch.Step);
            // The pixels are those of the images the order names, whichever buffer carries them.
            var order = BatchLoader.EpochOrder(8, 3, batch.Epoch);
            int start = (int)(step % 4) * 2;
            Assert.AreEqual((float)order[start], batch.Pixels[0]);
            Assert.AreEqual((float)order[start + 1], batch.Pixels[12]);
            buffers.Add(batch.Pixels);
            loader.Release(batch);
        }
        Assert.IsLessThanOrEqualTo(5, buffers.Count, "40 batches travel in at most prefetch + 2 = 5 buffers");
    }
}
