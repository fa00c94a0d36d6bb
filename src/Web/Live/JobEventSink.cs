using Sft.Training.Engine;

namespace Sft.Web.Live;

/// <summary>The sink one job's trainer publishes to: queues each event for the <see cref="JobEventWriter"/> and returns.</summary>
public sealed class JobEventSink(string jobId, JobEventWriter writer) : ITrainingEventSink
{
    public string JobId => jobId;

    public void Publish(TrainingEvent trainingEvent) => writer.Enqueue(jobId, trainingEvent);
}
