// network checks, sorted by id.
import eastwestGateway from './eastwest-gateway.ts';

export default [eastwestGateway];
