package dynamo

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/rapportcrm/rapport/crm"
)

// wrap translates a DynamoDB failure into a domain error. Throttling and
// faults that outlived the SDK's retries become UNAVAILABLE (the client may
// retry); anything unknown stays internal, with the cause kept for logs.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	var de *crm.Error
	if errors.As(err, &de) {
		return err
	}
	var (
		cond      *types.ConditionalCheckFailedException
		thr       *types.ProvisionedThroughputExceededException
		limit     *types.RequestLimitExceeded
		exhausted *retry.MaxAttemptsError
		api       smithy.APIError
		nerr      net.Error

		internal *types.InternalServerError
		status   interface{ HTTPStatusCode() int }
	)
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return &crm.Error{Code: crm.EUNAVAILABLE, Message: "the request timed out; retry", Err: fmt.Errorf("%s: %w", op, err)}
	case errors.As(err, &cond):
		return &crm.Error{Code: crm.ECONFLICT, Message: "the item was changed by someone else; reload and retry", Err: err}
	case errors.As(err, &internal), errors.As(err, &status) && status.HTTPStatusCode() >= 500:
		// DynamoDB's own fault, still there after the retries.
		return &crm.Error{Code: crm.EUNAVAILABLE, Message: "the database failed; retry shortly", Err: fmt.Errorf("%s: %w", op, err)}
	case errors.As(err, &nerr):
		return &crm.Error{Code: crm.EUNAVAILABLE, Message: "the database is unreachable; retry shortly", Err: fmt.Errorf("%s: %w", op, err)}
	case errors.As(err, &thr), errors.As(err, &limit), errors.As(err, &exhausted):
		return &crm.Error{Code: crm.EUNAVAILABLE, Message: "the service is busy; retry shortly", Err: fmt.Errorf("%s: %w", op, err)}
	case errors.As(err, &api) && api.ErrorCode() == "ThrottlingException":
		return &crm.Error{Code: crm.EUNAVAILABLE, Message: "the service is busy; retry shortly", Err: fmt.Errorf("%s: %w", op, err)}
	}
	return fmt.Errorf("%s: %w", op, err)
}
