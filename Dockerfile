# SFT Studio server image (CPU). Ubuntu 24.04 ("noble") has the libstdc++ TorchSharp needs.
#   docker build -t sft-studio .
#   docker run -p 5080:5080 -v sft-data:/app/data sft-studio
# GPU variant: build with `--build-arg SFT_CUDA=true` (needs the CUDA libtorch NuGet packages
# reachable) and run with `--gpus all` on a host with NVIDIA driver >= 570 (CUDA 12.8).
FROM mcr.microsoft.com/dotnet/sdk:10.0-noble AS build
ARG SFT_CUDA=false
WORKDIR /src
COPY . .
RUN dotnet publish src/Web/Sft.Web.csproj -c Release -o /app -p:SftCuda=${SFT_CUDA}

FROM mcr.microsoft.com/dotnet/aspnet:10.0-noble
# jemalloc instead of glibc's malloc: CPU training then peaks at the memory estimate instead of 10-40% above it, and
# the trainer keeps jemalloc from returning freed pages while its loop runs, so steps do not fault them in again
# (src/Training/Engine/HeapAllocator.cs; README "Platform notes", bench/RESULTS.md "Heap allocator").
RUN apt-get update && apt-get install -y --no-install-recommends libjemalloc2 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app .
ENV ASPNETCORE_URLS=http://0.0.0.0:5080 \
    Urls=http://0.0.0.0:5080 \
    SFT_CONTENT_ROOT=/app \
    LD_PRELOAD=libjemalloc.so.2 \
    MALLOC_CONF=narenas:1
EXPOSE 5080
VOLUME /app/data
ENTRYPOINT ["dotnet", "Sft.Web.dll"]
