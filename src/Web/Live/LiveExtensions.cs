using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Sft.Web.Live;

public static class LiveExtensions
{
    /// <summary>The event writer, the notifier and the status service. Call before <c>AddSftQueue</c> (see <see cref="JobEventWriter"/>).</summary>
    public static IServiceCollection AddSftLive(this IServiceCollection services)
    {
        services.AddOptions<JobEventWriterOptions>().BindConfiguration(JobEventWriterOptions.Section)
            .Validate(o => o.FlushInterval > TimeSpan.Zero && o.MaxBatch > 0,
                "Sft:Events: FlushInterval must be positive (hh:mm:ss.fff) and MaxBatch at least 1.")
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<JobNotifier>();
        services.AddSingleton<JobStatusService>();
        services.AddSingleton<JobEventWriter>();
        services.AddHostedService(sp => sp.GetRequiredService<JobEventWriter>());
        return services;
    }
}
