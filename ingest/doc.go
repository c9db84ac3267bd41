// Package ingest accepts raw messages of the source systems and puts them on Kafka: valid appeals byte for
// byte on appeals.raw.<source>, status changes as model.StatusEvent on appeals.status, everything else on
// appeals.dlq with its reason. The HTTP server (ingest/server), the VK poller (ingest/vk) and the backfill
// (ingest/backfill) all go through the Ingestor here, so they validate, key and count alike.
package ingest
