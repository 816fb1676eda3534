export default function MiddlewarePage() {
  return <p>behind middleware</p>;
}
