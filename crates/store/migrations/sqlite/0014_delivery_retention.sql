-- Delivery retention (`ZS_DELIVERY_RETENTION`): settled deliveries (delivered or failed) are
-- deleted, oldest first, once their last change is older than the retention. This index
-- holds only settled rows, in that order, so the pruning reads just the rows it deletes and
-- a pending delivery's writes never touch it. The literal must match the statement in
-- `deliveries::prune_settled`: a partial index is used only for a query naming the same
-- condition.
CREATE INDEX deliveries_settled ON deliveries (updated_at, id) WHERE status <> 'pending';
