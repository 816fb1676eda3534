import { subscribe } from './actions';

export default function ActionPage() {
  return (
    <form action={subscribe}>
      <button type="submit">Subscribe</button>
    </form>
  );
}
