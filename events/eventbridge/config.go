package eventbridge

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/rapportcrm/rapport/config"
	"github.com/rapportcrm/rapport/events"
)

// SinkFor is where a function publishes events: the bus its configuration
// names (the stack's), or a file for a test of the binary; nil when
// neither is set.
func SinkFor(cfg config.Events, awsCfg aws.Config) events.Sink {
	switch {
	case cfg.Bus != "":
		client := eventbridge.NewFromConfig(awsCfg, func(o *eventbridge.Options) {
			if cfg.Endpoint != "" {
				o.BaseEndpoint = aws.String(cfg.Endpoint)
			}
		})
		return &Sink{Client: client, Bus: cfg.Bus}
	case cfg.File != "":
		return &events.FileSink{Path: cfg.File}
	}
	return nil
}
