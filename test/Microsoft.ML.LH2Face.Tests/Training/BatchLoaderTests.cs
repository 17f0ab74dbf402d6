using Microsoft.ML.LH2Face.Training;

namespace Microsoft.ML.LH2Face.Tests.Training;

[TestClass]
public sealed class BatchLoaderTests
{
    /// <summary>
    /// Pinned values: the order and flips must be the same in every process (a run resumed in a new
    /// process continues with the same batches), which HashCode-seeded generators are not.
    /// </summary>
    [TestMethod]
    public void EpochOrderAndFlips_FixedSeed_AreThePinnedValuesInEveryProcess()
    {
        Assert.AreEqual("0,7,6,5,2,8,4,9,1,3", string.Join(",", BatchLoader.EpochOrder(10, seed: 42, epoch: 3)));
        Assert.AreEqual("0000011111111101", string.Concat(Enumerable.Range(0, 16).Select(p => BatchLoader.FlipAt(42, 3, p) ? '1' : '0')));
    }

    [TestMethod]
    public void EpochOrder_IsAPermutationThatChangesWithTheEpoch()
    {
        var a = BatchLoader.EpochOrder(100, seed: 1, epoch: 0);
        CollectionAssert.AreEquivalent(Enumerable.Range(0, 100).ToArray(), a);
        CollectionAssert.AreNotEqual(a, BatchLoader.EpochOrder(100, seed: 1, epoch: 1));
        CollectionAssert.AreEqual(a, BatchLoader.EpochOrder(100, seed: 1, epoch: 0));
    }

    [TestMethod]
    public void FlipAt_OverManyPositions_FlipsAboutHalf()
    {
        int flips = Enumerable.Range(0, 10_000).Count(p => BatchLoader.FlipAt(7, 0, p));
        Assert.IsTrue(flips is > 4_800 and < 5_200, $"{flips} of 10000 flipped");
    }
}
