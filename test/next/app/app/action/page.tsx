import { subscribe } from './actions';

export default function ActionPage() {
  return (
    <form action={async () => { 'use server'; await subscribe(); }}>
      <button type="submit">Subscribe</button>
    </form>
  );
}
