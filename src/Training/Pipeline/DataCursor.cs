namespace Sft.Training.Pipeline;

/// <summary>
/// Where the data stream is: the epoch and how many samples of that epoch's order were consumed. Saved with a
/// checkpoint, it makes a resumed run take exactly the next batch (the order is recomputed from the seed; no seen
/// sample is read again).
/// </summary>
public readonly record struct DataCursor(int Epoch, int Index)
{
    public static DataCursor Start => new(0, 0);
}
